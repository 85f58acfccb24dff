import { createImage } from "./create-image.js";
import { createImageIndex } from "./create-image-index.js";
import { OciError } from "./errors.js";
import { Hash } from "./hash.js";
import type { Image, ImageIndex } from "./interfaces.js";
import { encodeJson } from "./json.js";
import { MediaType } from "./media-type.js";
import { memoryBlobSource } from "./memory-source.js";
import { quote } from "./quote.js";
import type { Platform } from "./types.js";

export interface EmptyImageOptions {
  /** OCI (default) or Docker schema 2; the config's media type follows. */
  mediaType?: typeof MediaType.OCI_MANIFEST | typeof MediaType.DOCKER_MANIFEST;
  /**
   * The platform written into the config. Default: none (`architecture` and `os` are empty
   * strings, so index entries made from the image carry no platform).
   */
  platform?: Platform;
}

/**
 * An image with no layers and a minimal config: the base that layers are appended to
 * (`appendLayers(emptyImage(), …)`). Its bytes are always the same for the same options.
 */
export function emptyImage(options: EmptyImageOptions = {}): Image {
  const mediaType = options.mediaType ?? MediaType.OCI_MANIFEST;
  if (mediaType !== MediaType.OCI_MANIFEST && mediaType !== MediaType.DOCKER_MANIFEST) {
    throw new OciError(`an empty image is an OCI or Docker manifest, not ${quote(mediaType)}`, {
      code: "HOIST_OCI_INVALID_ARGUMENT",
      operation: "empty image",
    });
  }
  const platform = options.platform;
  const config: Record<string, unknown> = {
    architecture: platform?.architecture ?? "",
    os: platform?.os ?? "",
  };
  if (platform?.variant) config.variant = platform.variant;
  if (platform?.["os.version"]) config["os.version"] = platform["os.version"];
  if (platform?.["os.features"]?.length) config["os.features"] = platform["os.features"];
  config.config = {};
  config.rootfs = { type: "layers", diff_ids: [] };
  const rawConfig = encodeJson(config);
  const rawManifest = encodeJson({
    schemaVersion: 2,
    mediaType,
    config: {
      mediaType:
        mediaType === MediaType.OCI_MANIFEST ? MediaType.OCI_CONFIG : MediaType.DOCKER_CONFIG,
      size: rawConfig.byteLength,
      digest: Hash.compute(rawConfig),
    },
    layers: [],
  });
  return createImage({ rawManifest, source: memoryBlobSource([rawConfig]) });
}

export interface EmptyIndexOptions {
  /** OCI index (default) or Docker manifest list. */
  mediaType?: typeof MediaType.OCI_INDEX | typeof MediaType.DOCKER_MANIFEST_LIST;
}

/** An index with no entries: the base that `appendManifests` adds to. */
export function emptyIndex(options: EmptyIndexOptions = {}): ImageIndex {
  const mediaType = options.mediaType ?? MediaType.OCI_INDEX;
  if (mediaType !== MediaType.OCI_INDEX && mediaType !== MediaType.DOCKER_MANIFEST_LIST) {
    throw new OciError(
      `an empty index is an OCI index or Docker manifest list, not ${quote(mediaType)}`,
      {
        code: "HOIST_OCI_INVALID_ARGUMENT",
        operation: "empty index",
      },
    );
  }
  return createImageIndex({
    rawManifest: encodeJson({ schemaVersion: 2, mediaType, manifests: [] }),
    source: memoryBlobSource([]),
  });
}
