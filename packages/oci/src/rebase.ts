import { emptyImage } from "./empty.js";
import { OciError } from "./errors.js";
import type { Image, ReadOptions } from "./interfaces.js";
import { MediaType } from "./media-type.js";
import { appendLayers, setConfigFile } from "./mutate-image.js";
import type { ConfigFile } from "./types.js";

/**
 * go-containerregistry's `mutate.Rebase`: `original` minus the layers of `oldBase` (which must
 * be its first layers), on top of `newBase`. The result has `original`'s config with the new
 * base's os, architecture and os.version, the new base's layers and history followed by
 * `original`'s own, and `original`'s manifest media type. Lazy, like every mutation.
 * Throws `HOIST_OCI_INVALID_ARGUMENT` when `original` is not based on `oldBase`.
 */
export async function rebase(
  original: Image,
  oldBase: Image,
  newBase: Image,
  options: ReadOptions = {},
): Promise<Image> {
  const operation = "rebase image";
  const [origLayers, oldLayers, newLayers] = await Promise.all([
    original.layers(options),
    oldBase.layers(options),
    newBase.layers(options),
  ]);
  const [origDigest, oldDigest] = await Promise.all([
    original.digest(options),
    oldBase.digest(options),
  ]);
  if (oldLayers.length > origLayers.length) {
    throw new OciError(`image ${origDigest} is not based on ${oldDigest} (too few layers)`, {
      code: "HOIST_OCI_INVALID_ARGUMENT",
      operation,
    });
  }
  for (const [position, layer] of oldLayers.entries()) {
    const [expected, actual] = await Promise.all([
      layer.digest(options),
      (origLayers[position] as (typeof origLayers)[number]).digest(options),
    ]);
    if (!expected.equals(actual)) {
      throw new OciError(
        `image ${origDigest} is not based on ${oldDigest} (layer ${position} mismatch)`,
        { code: "HOIST_OCI_INVALID_ARGUMENT", operation },
      );
    }
  }
  const [origConfig, oldConfig, newConfig, mediaType] = await Promise.all([
    original.configFile(options),
    oldBase.configFile(options),
    newBase.configFile(options),
    original.mediaType(options),
  ]);
  const kept = origLayers.slice(oldLayers.length);
  const origDiffIDs = origConfig.rootfs?.diff_ids ?? [];
  const newDiffIDs = newConfig.rootfs?.diff_ids ?? [];
  const config: ConfigFile = {
    ...origConfig,
    architecture: newConfig.architecture,
    os: newConfig.os,
    rootfs: {
      type: "layers",
      diff_ids: [...newDiffIDs, ...origDiffIDs.slice(oldLayers.length)],
    },
    history: [
      ...(newConfig.history ?? []),
      ...(origConfig.history ?? []).slice((oldConfig.history ?? []).length),
    ],
  };
  if (newConfig["os.version"]) config["os.version"] = newConfig["os.version"];
  else delete config["os.version"];
  const base = emptyImage({
    mediaType:
      mediaType === MediaType.DOCKER_MANIFEST ? MediaType.DOCKER_MANIFEST : MediaType.OCI_MANIFEST,
  });
  return setConfigFile(appendLayers(base, [...newLayers, ...kept]), config);
}
