import { bytesStream } from "./bytes-stream.js";
import type { Image, ImageIndex, Layer, ReadOptions } from "./interfaces.js";
import { isConfig, MediaType } from "./media-type.js";
import type { Descriptor } from "./types.js";

/**
 * The descriptor that points at an image, index or layer: media type, size and digest, plus
 * `artifactType` for artifact manifests (the manifest's own, else a non-image config type).
 * A layer's own descriptor (urls, annotations) is used when it has one.
 */
export async function descriptorOf(
  target: Image | ImageIndex | Layer,
  options: ReadOptions = {},
): Promise<Descriptor> {
  if ("descriptor" in target && typeof target.descriptor === "function") {
    return target.descriptor(options);
  }
  const descriptor: Descriptor = {
    mediaType: await target.mediaType(options),
    size: await target.size(options),
    digest: await target.digest(options),
  };
  if ("configFile" in target && typeof target.configFile === "function") {
    const manifest = await target.manifest(options);
    const configType = manifest.config.mediaType;
    const artifactType =
      manifest.artifactType ??
      (isConfig(configType) || configType === MediaType.OCI_EMPTY ? undefined : configType);
    if (artifactType) descriptor.artifactType = artifactType;
  }
  return descriptor;
}

/**
 * The image's config blob as a {@link Layer}, so writers can upload it like any other blob
 * (go-containerregistry's partial.ConfigLayer). Its diffID is its digest: it is not compressed.
 */
export function configLayer(image: Image): Layer {
  const digest = (options?: ReadOptions) => image.configName(options);
  const bytes = async (options?: ReadOptions) => {
    const raw = await image.rawConfigFile(options);
    return bytesStream(raw);
  };
  return {
    digest,
    diffID: digest,
    size: async (options) => (await image.rawConfigFile(options)).byteLength,
    mediaType: async (options) => (await image.manifest(options)).config.mediaType,
    compressed: bytes,
    uncompressed: bytes,
    descriptor: async (options) => (await image.manifest(options)).config,
  };
}
