import type { Repository } from "@hoist/name";
import type { Hash, Image, ImageIndex, Layer, ReadOptions } from "@hoist/oci";

// Cross-repository mounts need to know where a blob already lives. Layers read from a
// registry remember their repository here (go-containerregistry's MountableLayer), keyed by
// the layer object itself, so the knowledge survives mutations that keep the layer (appending
// layers to a pulled base image keeps the base's layer objects).
const origins = new WeakMap<object, Repository>();

/** The repository a layer (or an image, for its config) was read from, if any. */
export function originOf(value: Layer | Image): Repository | undefined {
  return origins.get(value);
}

function remember<T extends Layer>(layer: T, repository: Repository): T {
  if (!origins.has(layer)) origins.set(layer, repository);
  return layer;
}

/** An image whose layers (and config) remember `repository` as their origin. */
export function trackImage(image: Image, repository: Repository): Image {
  const tracked: Image = {
    mediaType: (o?: ReadOptions) => image.mediaType(o),
    size: (o?: ReadOptions) => image.size(o),
    digest: (o?: ReadOptions) => image.digest(o),
    rawManifest: (o?: ReadOptions) => image.rawManifest(o),
    manifest: (o?: ReadOptions) => image.manifest(o),
    rawConfigFile: (o?: ReadOptions) => image.rawConfigFile(o),
    configFile: (o?: ReadOptions) => image.configFile(o),
    configName: (o?: ReadOptions) => image.configName(o),
    layers: async (o?: ReadOptions) =>
      (await image.layers(o)).map((layer) => remember(layer, repository)),
    layerByDigest: async (digest: Hash | string, o?: ReadOptions) =>
      remember(await image.layerByDigest(digest, o), repository),
    layerByDiffID: async (diffID: Hash | string, o?: ReadOptions) =>
      remember(await image.layerByDiffID(diffID, o), repository),
  };
  origins.set(tracked, repository);
  return tracked;
}

/** An index whose children (and their layers) remember `repository`. */
export function trackIndex(index: ImageIndex, repository: Repository): ImageIndex {
  return {
    mediaType: (o?: ReadOptions) => index.mediaType(o),
    size: (o?: ReadOptions) => index.size(o),
    digest: (o?: ReadOptions) => index.digest(o),
    rawManifest: (o?: ReadOptions) => index.rawManifest(o),
    indexManifest: (o?: ReadOptions) => index.indexManifest(o),
    image: async (digest: Hash | string, o?: ReadOptions) =>
      trackImage(await index.image(digest, o), repository),
    imageIndex: async (digest: Hash | string, o?: ReadOptions) =>
      trackIndex(await index.imageIndex(digest, o), repository),
    blob: async (digest: Hash | string, o?: ReadOptions) =>
      remember(await index.blob(digest, o), repository),
  };
}

/** Marks a layer as living in `repository` (a remote layer by digest). */
export function trackLayer<T extends Layer>(layer: T, repository: Repository): T {
  return remember(layer, repository);
}
