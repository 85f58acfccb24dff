import { type Readable, Transform } from "node:stream";
import type { Image, ImageIndex, Layer, ReadOptions } from "@hoist/oci";
import { delegateLayer, mapLayers } from "./image-wrappers.js";
import type { ItemState, ProgressView } from "./progress.js";
import { shortDigest } from "./progress.js";

// Per-layer lines for the progress bars. The registry client reports whole-operation bytes;
// what each layer is doing shows in how its bytes are read: a layer being read is moving, one
// read to its end is done, and one never read was already there (or mounted). So the image
// handed to the client is the same image whose layers count what is read from them.

interface Tracker {
  view: ProgressView;
  /** "uploading" for pushes, "downloading" for pulls. */
  moving: ItemState;
  known: Map<string, { size: number | undefined; state: ItemState }>;
}

async function idOf(layer: Layer): Promise<string | undefined> {
  try {
    return shortDigest(String(await layer.digest()));
  } catch {
    // A streamed layer has no digest before it is read.
    return undefined;
  }
}

function counting(source: Readable, onBytes: (total: number) => void, onEnd: () => void): Readable {
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      onBytes(total);
      callback(null, chunk);
    },
    flush(callback) {
      onEnd();
      callback();
    },
  });
  source.on("error", (error) => counter.destroy(error));
  return source.pipe(counter);
}

function trackLayer(layer: Layer, tracker: Tracker, label: string): Layer {
  const read = async (options?: ReadOptions): Promise<Readable> => {
    const stream = await layer.compressed(options);
    const id = (await idOf(layer)) ?? label;
    const size = tracker.known.get(id)?.size ?? (await layer.size(options).catch(() => undefined));
    tracker.known.set(id, { size, state: tracker.moving });
    return counting(
      stream,
      (bytes) => tracker.view.item(id, tracker.moving, bytes, size),
      () => {
        tracker.known.set(id, { size, state: "done" });
        tracker.view.item(id, "done", size ?? 0, size);
      },
    );
  };
  return delegateLayer(layer, { compressed: read });
}

function trackImage(image: Image, tracker: Tracker): Image {
  let position = 0;
  return mapLayers(image, (layer) => {
    const label = `layer ${++position}`;
    // Announce each layer as waiting once its digest and size are known.
    void idOf(layer).then(async (id) => {
      if (!id || tracker.known.has(id)) return;
      const size = await layer.size().catch(() => undefined);
      tracker.known.set(id, { size, state: "waiting" });
      tracker.view.item(id, "waiting", undefined, size);
    });
    return trackLayer(layer, tracker, label);
  });
}

function trackIndex(index: ImageIndex, tracker: Tracker): ImageIndex {
  return {
    mediaType: (o) => index.mediaType(o),
    size: (o) => index.size(o),
    digest: (o) => index.digest(o),
    rawManifest: (o) => index.rawManifest(o),
    indexManifest: (o) => index.indexManifest(o),
    image: async (digest, o) => trackImage(await index.image(digest, o), tracker),
    imageIndex: async (digest, o) => trackIndex(await index.imageIndex(digest, o), tracker),
    blob: (digest, o) => index.blob(digest, o),
  };
}

/** Layers that were never read by the end were already in place: say so. */
function settle(tracker: Tracker, state: ItemState): void {
  for (const [id, entry] of tracker.known) {
    if (entry.state === "waiting") tracker.view.item(id, state, undefined, entry.size);
  }
}

/** The image or index, reporting per-layer state to `view` as its layers are read. */
export function trackedLayers<T extends Image | ImageIndex>(
  item: T,
  view: ProgressView,
  moving: ItemState,
): { item: T; settle: (state: ItemState) => void } {
  const tracker: Tracker = { view, moving, known: new Map() };
  const tracked = (
    "layers" in item ? trackImage(item, tracker) : trackIndex(item as ImageIndex, tracker)
  ) as T;
  return { item: tracked, settle: (state) => settle(tracker, state) };
}
