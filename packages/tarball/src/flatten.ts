import { PassThrough, Readable } from "node:stream";
import {
  appendLayers,
  type ConfigFile,
  emptyImage,
  type Image,
  layerFromStream,
  MediaType,
  setAnnotations,
  setConfigFile,
} from "@hoist/oci";
import { invalidArgument, quote } from "./errors.js";
import { type ExportOptions, exportImage } from "./export-image.js";

export interface FlattenOptions
  extends Pick<ExportOptions, "maxUncompressedBytes" | "maxCompressionRatio" | "unsafeSymlinks"> {
  signal?: AbortSignal;
  /** The new config's `created` and the history entry's. Default: now. */
  created?: Date;
  /** The history entry's `created_by`. Default: `hoist flatten <old digest>`. */
  createdBy?: string;
  /** gzip level of the one layer. Default: 9, as crane flatten. */
  gzipLevel?: number;
}

/**
 * An image whose filesystem is `image`'s squashed into one gzip layer (crane flatten): the
 * config is kept except `rootfs`, a fresh `created`, and a history of one entry whose `comment`
 * holds the old history as JSON. Manifest annotations and the Docker or OCI media types are
 * kept. The layer is the export of `image` (see {@link exportImage}), produced while it is read:
 * it can be read once, and the new image's digest is known only after that read (write its
 * layers first, as writers do).
 */
export async function flatten(image: Image, options: FlattenOptions = {}): Promise<Image> {
  const operation = "flatten image";
  const { signal } = options;
  if (options.created !== undefined && Number.isNaN(options.created.getTime?.())) {
    throw invalidArgument(`created must be a valid Date, got ${quote(options.created)}`, operation);
  }
  const [digest, manifest, config, mediaType] = await Promise.all([
    image.digest({ signal }),
    image.manifest({ signal }),
    image.configFile({ signal }),
    image.mediaType({ signal }),
  ]);
  const docker = mediaType === MediaType.DOCKER_MANIFEST;
  const created = (options.created ?? new Date()).toISOString();
  const flattened: ConfigFile = {
    ...config,
    created,
    history: [],
    rootfs: { type: "layers", diff_ids: [] },
  };
  const base = setConfigFile(
    emptyImage({ mediaType: docker ? MediaType.DOCKER_MANIFEST : MediaType.OCI_MANIFEST }),
    flattened,
  );
  // The export runs only when the layer is first read, and stops if that read is abandoned.
  const exported = Readable.from(
    (async function* () {
      const pass = new PassThrough();
      const done = exportImage(image, pass, {
        signal,
        maxUncompressedBytes: options.maxUncompressedBytes,
        maxCompressionRatio: options.maxCompressionRatio,
        unsafeSymlinks: options.unsafeSymlinks,
      });
      done.catch((error: unknown) => pass.destroy(error as Error));
      try {
        yield* pass;
        await done;
      } finally {
        // An abandoned read ends the export (its next write fails) instead of stalling it.
        if (!pass.readableEnded) pass.destroy();
      }
    })(),
    { objectMode: false },
  );
  const layer = layerFromStream(exported, {
    compression: "gzip",
    gzipLevel: options.gzipLevel ?? 9,
    mediaType: docker ? MediaType.DOCKER_LAYER : MediaType.OCI_LAYER_GZIP,
  });
  let result = appendLayers(base, [
    {
      layer,
      history: {
        created,
        created_by: options.createdBy ?? `hoist flatten ${digest}`,
        comment: JSON.stringify(config.history ?? []),
      },
    },
  ]);
  if (manifest.annotations && Object.keys(manifest.annotations).length > 0) {
    result = setAnnotations(result, manifest.annotations) as Image;
  }
  return result;
}
