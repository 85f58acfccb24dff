import type { Hash, Image, Layer, ReadOptions } from "@hoist/oci";

/** A layer that answers like `layer` except where `overrides` says otherwise. */
export function delegateLayer(layer: Layer, overrides: Partial<Layer>): Layer {
  const descriptor = layer.descriptor;
  return {
    digest: (o) => layer.digest(o),
    diffID: (o) => layer.diffID(o),
    size: (o) => layer.size(o),
    mediaType: (o) => layer.mediaType(o),
    compressed: (o) => layer.compressed(o),
    uncompressed: (o) => layer.uncompressed(o),
    ...(descriptor ? { descriptor: (o?: ReadOptions) => descriptor.call(layer, o) } : {}),
    ...overrides,
  };
}

/**
 * The same image (manifest, config, digest unchanged) whose layers are `wrap(layer)`: how the
 * CLI adds a cache or progress reporting to an image without changing its content.
 */
export function mapLayers(image: Image, wrap: (layer: Layer, position: number) => Layer): Image {
  let wrapped: Promise<Layer[]> | undefined;
  const layers = (o?: ReadOptions) => {
    wrapped ??= image.layers(o).then((found) => found.map(wrap));
    return wrapped;
  };
  const find = async (key: "digest" | "diffID", value: Hash | string, o?: ReadOptions) => {
    for (const layer of await layers(o)) {
      if (String(await layer[key](o)) === String(value)) return layer;
    }
    return key === "digest" ? image.layerByDigest(value, o) : image.layerByDiffID(value, o);
  };
  return {
    mediaType: (o) => image.mediaType(o),
    size: (o) => image.size(o),
    digest: (o) => image.digest(o),
    rawManifest: (o) => image.rawManifest(o),
    manifest: (o) => image.manifest(o),
    rawConfigFile: (o) => image.rawConfigFile(o),
    configFile: (o) => image.configFile(o),
    configName: (o) => image.configName(o),
    layers,
    layerByDigest: (digest, o) => find("digest", digest, o),
    layerByDiffID: (diffID, o) => find("diffID", diffID, o),
  };
}
