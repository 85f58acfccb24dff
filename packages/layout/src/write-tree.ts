import { readdir } from "node:fs/promises";
import {
  type Descriptor,
  descriptorOf,
  type Hash,
  type Image,
  type ImageIndex,
  isImage,
  isIndex,
  type Layer,
  OciError,
} from "@hoist/oci";
import { type BlobInput, type BlobWriteResult, writeBlobFile } from "./blob-files.js";
import { LayoutError } from "./errors.js";
import { syncDirectory } from "./files.js";
import { Limiter } from "./locks.js";
import { safeBlobDirectory } from "./paths.js";
import { type LayoutProgress, ProgressTracker } from "./progress.js";

// Writing an image or index is two passes over its tree. The plan pass resolves every child and
// adds up the sizes it already knows, so progress has a meaningful total from the first report.
// The write pass then names blobs leaves first (layers, then config, then the manifest; children,
// then their index), so a manifest is never in the layout before what it references. Each blob is
// written once per operation; the first failure stops every other write of the operation, and the
// operation returns only after all of them cleaned up.

/** Options of every method that writes images, indexes or blobs. */
export interface WriteOptions {
  signal?: AbortSignal;
  /** Called as bytes reach the disk. */
  onProgress?: (progress: LayoutProgress) => void;
  /** Blobs written at the same time. Default 4. */
  concurrency?: number;
}

/** The deepest nesting of indexes this package follows. Real layouts nest two levels. */
export const MAX_INDEX_DEPTH = 32;

interface PlannedLayer {
  layer: Layer;
  /** Known unless the layer is streamed and not read yet. */
  digest?: Hash;
  size?: number;
}

type Planned =
  | {
      kind: "image";
      image: Image;
      layers: PlannedLayer[];
      /** Whether the manifest (so the config's digest) is known before any layer is written. */
      manifestKnown: boolean;
    }
  | { kind: "index"; index: ImageIndex; children: Planned[] }
  | { kind: "blob"; layer: Layer; descriptor: Descriptor };

/** @internal State shared by the writes of one operation. */
class WriteRun {
  readonly controller = new AbortController();
  readonly progress: ProgressTracker;
  readonly #limiter: Limiter;
  readonly #once = new Map<string, Promise<BlobWriteResult>>();
  readonly #directories = new Set<string>();
  readonly #defer = (directory: string) => {
    this.#directories.add(directory);
  };
  readonly #blobDirectories = new Map<string, Promise<string | undefined>>();
  /**
   * `blobs/<alg>/`, checked once per run for all the blobs written into it. A missing directory
   * is looked up again (created only by the first blob that is renamed into it), so a run that
   * fails before any blob lands leaves the layout as it found it.
   */
  readonly #blobDirectory = (algorithm: string, create: boolean): Promise<string | undefined> => {
    const known = this.#blobDirectories.get(algorithm);
    // A lookup under way that finds nothing is followed by one that creates, when asked to.
    if (known)
      return create ? known.then((found) => found ?? this.#blobDirectory(algorithm, true)) : known;
    const directory = safeBlobDirectory(this.root, algorithm, {
      create,
      operation: this.operation,
    });
    this.#blobDirectories.set(algorithm, directory);
    // Only an existing directory is remembered; a failed check is not (each write reports it).
    directory.then(
      (found) => {
        if (found === undefined) this.#blobDirectories.delete(algorithm);
      },
      () => this.#blobDirectories.delete(algorithm),
    );
    return directory;
  };
  readonly #listings = new Map<string, Promise<ReadonlySet<string> | undefined>>();
  /**
   * Whether a blob may be in `blobs/<alg>/` already, from one listing per run. A name missing
   * from it is written without a check: a blob this run wrote since is written once anyway, and
   * one another process added since is replaced by the same verified bytes. A listing that
   * fails leaves every blob to its own check.
   */
  readonly #mayExist = (directory: string, digest: Hash): Promise<boolean> => {
    let listing = this.#listings.get(digest.algorithm);
    if (!listing) {
      listing = readdir(directory).then(
        (names) => new Set(names),
        () => undefined,
      );
      this.#listings.set(digest.algorithm, listing);
    }
    return listing.then((names) => names === undefined || names.has(digest.hex));
  };
  readonly root: string;
  readonly operation: string;

  constructor(root: string, operation: string, options: WriteOptions) {
    this.root = root;
    this.operation = operation;
    this.progress = new ProgressTracker(options.onProgress);
    this.#limiter = new Limiter(options.concurrency ?? 4);
    const outer = options.signal;
    if (outer) {
      if (outer.aborted) this.controller.abort(outer.reason);
      else {
        const onAbort = () => this.controller.abort(outer.reason);
        outer.addEventListener("abort", onAbort, { once: true });
        this.#detach = () => outer.removeEventListener("abort", onAbort);
      }
    }
  }

  #detach: () => void = () => {};

  /**
   * Lets go of the caller's signal. A finished write must not stay listening: callers pass one
   * long-lived signal to many writes, and each listener would keep its run alive.
   */
  finish(): void {
    this.#detach();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** What every blob write of the run shares: its operation, signal and directory handling. */
  #shared() {
    return {
      operation: this.operation,
      signal: this.signal,
      deferDirectorySync: this.#defer,
      blobDirectory: this.#blobDirectory,
      mayExist: this.#mayExist,
    };
  }

  /** A blob of known digest, written once however often it appears in the tree. */
  known(digest: Hash, size: number, open: () => Promise<BlobInput>): Promise<BlobWriteResult> {
    const key = String(digest);
    let write = this.#once.get(key);
    if (!write) {
      this.progress.expect(key, size);
      write = this.#limiter.run(() =>
        writeBlobFile(this.root, open, {
          ...this.#shared(),
          digest,
          size,
          onBytes: (bytes) => this.progress.written(bytes),
        }),
      );
      this.#once.set(key, write);
    }
    return write;
  }

  /**
   * A small blob held in memory (a config or manifest), written and flushed at once but renamed
   * into place only after `after`: its flush then overlaps the downloads it refers to instead of
   * following them. Outside the concurrency limit, so it never holds a slot those downloads need.
   */
  staged(
    digest: Hash,
    bytes: Promise<Uint8Array>,
    after: Promise<unknown>,
  ): Promise<BlobWriteResult> {
    const key = String(digest);
    let write = this.#once.get(key);
    if (!write) {
      write = bytes.then((data) => {
        this.progress.expect(key, data.byteLength);
        return writeBlobFile(this.root, async () => data, {
          ...this.#shared(),
          digest,
          size: data.byteLength,
          onBytes: (count) => this.progress.written(count),
          publishAfter: after,
        });
      });
      this.#once.set(key, write);
    }
    return write;
  }

  /** A blob whose digest is known only once it has been read. */
  async streamed(open: () => Promise<BlobInput>): Promise<BlobWriteResult> {
    const result = await this.#limiter.run(() =>
      writeBlobFile(this.root, open, {
        ...this.#shared(),
        onBytes: (bytes) => this.progress.streamed(bytes),
      }),
    );
    const key = String(result.digest);
    this.progress.expect(key, 0);
    if (!this.#once.has(key)) this.#once.set(key, Promise.resolve(result));
    return result;
  }

  /**
   * Makes the names of the blobs written so far durable: one fsync per blob directory for the
   * whole run rather than one per blob, before the caller refers to them (index.json).
   */
  async syncDirectories(): Promise<void> {
    await Promise.all([...this.#directories].map((directory) => syncDirectory(directory)));
    this.#directories.clear();
  }

  /** Awaits every task; on the first failure stops the others and waits for their clean-up. */
  async all<T>(tasks: Array<Promise<T>>): Promise<T[]> {
    try {
      return await Promise.all(tasks);
    } catch (error) {
      if (!this.signal.aborted) this.controller.abort(error);
      await Promise.allSettled(tasks);
      throw error;
    }
  }
}

function notComputed(error: unknown): boolean {
  return OciError.is(error) && error.code === "HOIST_OCI_NOT_COMPUTED";
}

function kindOf(value: Image | ImageIndex): "image" | "index" {
  if (typeof (value as ImageIndex).indexManifest === "function") return "index";
  if (typeof (value as Image).configFile === "function") return "image";
  throw new LayoutError("expected an Image or an ImageIndex from @hoist/oci", {
    code: "HOIST_LAYOUT_INVALID_ARGUMENT",
    operation: "write",
  });
}

async function planImage(image: Image, run: WriteRun): Promise<Planned> {
  const signal = run.signal;
  const layers: PlannedLayer[] = [];
  for (const layer of await image.layers({ signal })) {
    try {
      const digest = await layer.digest({ signal });
      const size = await layer.size({ signal });
      run.progress.expect(String(digest), size);
      layers.push({ layer, digest, size });
    } catch (error) {
      if (!notComputed(error)) throw error;
      layers.push({ layer });
    }
  }
  let manifestKnown = false;
  try {
    const manifest = await image.manifest({ signal });
    run.progress.expect(String(manifest.config.digest), manifest.config.size);
    run.progress.expect(String(await image.digest({ signal })), await image.size({ signal }));
    manifestKnown = true;
  } catch (error) {
    // An image with streamed layers has no manifest until they are written.
    if (!notComputed(error)) throw error;
  }
  return { kind: "image", image, layers, manifestKnown };
}

async function planIndex(index: ImageIndex, run: WriteRun, depth: number): Promise<Planned> {
  if (depth > MAX_INDEX_DEPTH) {
    throw new LayoutError(
      `indexes nest more than ${MAX_INDEX_DEPTH} levels deep; refusing to follow them further`,
      {
        code: "HOIST_LAYOUT_INVALID_ARGUMENT",
        operation: run.operation,
      },
    );
  }
  const signal = run.signal;
  const manifest = await index.indexManifest({ signal });
  run.progress.expect(String(await index.digest({ signal })), await index.size({ signal }));
  const seen = new Set<string>();
  const children: Planned[] = [];
  for (const descriptor of manifest.manifests) {
    const key = String(descriptor.digest);
    if (seen.has(key)) continue;
    seen.add(key);
    if (isIndex(descriptor.mediaType)) {
      children.push(
        await planIndex(await index.imageIndex(descriptor.digest, { signal }), run, depth + 1),
      );
    } else if (isImage(descriptor.mediaType)) {
      children.push(await planImage(await index.image(descriptor.digest, { signal }), run));
    } else {
      // Anything else an index points at (an artifact, a plain blob) is copied as bytes.
      run.progress.expect(key, descriptor.size);
      children.push({
        kind: "blob",
        layer: await index.blob(descriptor.digest, { signal }),
        descriptor,
      });
    }
  }
  return { kind: "index", index, children };
}

async function writeLayer(planned: PlannedLayer, run: WriteRun): Promise<void> {
  const { layer } = planned;
  const signal = run.signal;
  if (planned.digest !== undefined && planned.size !== undefined) {
    await run.known(planned.digest, planned.size, () => layer.compressed({ signal }));
    return;
  }
  const result = await run.streamed(() => layer.compressed({ signal }));
  // The layer hashed its bytes too; a disagreement means it is broken, and its manifest with it.
  const own = await layer.digest({ signal });
  if (!own.equals(result.digest)) {
    throw new LayoutError(
      `a streamed layer reports digest ${own} but its bytes hash to ${result.digest}; the layer implementation is broken`,
      {
        code: "HOIST_LAYOUT_WRITE_FAILED",
        operation: run.operation,
        digest: String(result.digest),
      },
    );
  }
}

async function writePlanned(
  planned: Planned,
  run: WriteRun,
  writeOwnManifest: boolean,
): Promise<void> {
  const signal = run.signal;
  if (planned.kind === "blob") {
    const { layer, descriptor } = planned;
    await run.known(descriptor.digest, descriptor.size, () => layer.compressed({ signal }));
    return;
  }
  if (planned.kind === "index") {
    await run.all(planned.children.map((child) => writePlanned(child, run, true)));
    if (writeOwnManifest) {
      const raw = await planned.index.rawManifest({ signal });
      await run.known(await planned.index.digest({ signal }), raw.byteLength, async () => raw);
    }
    return;
  }
  const { image } = planned;
  const layers = run.all(planned.layers.map((layer) => writeLayer(layer, run)));
  // Handled below; meanwhile a failure must not count as unhandled.
  layers.catch(() => {});
  if (!planned.manifestKnown) {
    await layers;
    const manifest = await image.manifest({ signal });
    const bytes = await image.rawConfigFile({ signal });
    await run.known(manifest.config.digest, bytes.byteLength, async () => bytes);
    if (writeOwnManifest) {
      const raw = await image.rawManifest({ signal });
      await run.known(await image.digest({ signal }), raw.byteLength, async () => raw);
    }
    return;
  }
  // The config is fetched, and it and the manifest written to flushed temporary files, while
  // the layers download: a registry round trip and two flushes off every pull's critical path.
  // Each is renamed into place only after what it refers to, so a layout never holds a
  // manifest whose blobs are missing, and a failed write leaves it as it found it.
  const manifest = await image.manifest({ signal });
  const config = run.staged(manifest.config.digest, image.rawConfigFile({ signal }), layers);
  config.catch(() => {});
  // After the layers too: a config written once for the whole run may have landed with
  // another image's blobs (the same bytes), before this image's layers.
  const referenced = Promise.all([layers, config]);
  // Awaited only by a write that gets that far; a failure before then is handled below.
  referenced.catch(() => {});
  const own = writeOwnManifest
    ? run.staged(await image.digest({ signal }), image.rawManifest({ signal }), referenced)
    : undefined;
  // Awaited together, so a failed layer waits for the staged files to be removed.
  await run.all<unknown>([layers, config, ...(own ? [own] : [])]);
}

/**
 * @internal Writes every blob of an image or index into the layout (not index.json) and returns
 * the descriptor that points at it. With `writeOwnManifest: false` the top manifest itself is not
 * stored as a blob (it becomes index.json).
 */
export async function writeTree(
  root: string,
  target: Image | ImageIndex,
  options: WriteOptions & { operation: string; writeOwnManifest?: boolean },
): Promise<Descriptor> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new LayoutError(`concurrency must be a positive integer, got ${String(concurrency)}`, {
      code: "HOIST_LAYOUT_INVALID_ARGUMENT",
      operation: options.operation,
    });
  }
  const run = new WriteRun(root, options.operation, options);
  try {
    const planned =
      kindOf(target) === "index"
        ? await planIndex(target as ImageIndex, run, 0)
        : await planImage(target as Image, run);
    await writePlanned(planned, run, options.writeOwnManifest ?? true);
    await run.syncDirectories();
    return await descriptorOf(target, { signal: run.signal });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  } finally {
    run.finish();
  }
}
