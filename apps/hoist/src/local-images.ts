import { stat } from "node:fs/promises";
import { imageIndexFromPath } from "@hoist/layout";
import { type Image, type ImageIndex, isImage, isIndex } from "@hoist/oci";
import { imageFromTarball } from "@hoist/tarball";
import { CliError, context as wrap } from "./errors.js";

/** What `push` and `index append` read from disk: an image, or an index with `--index`. */
export type LocalImage = { kind: "image"; image: Image } | { kind: "index"; index: ImageIndex };

/**
 * crane's loadImage: a directory is an OCI image layout (exactly one entry unless `index`, which
 * takes the whole layout as an index); anything else is a docker tarball with one image.
 */
export async function loadLocal(
  path: string,
  options: { index: boolean; signal: AbortSignal },
): Promise<LocalImage> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (cause) {
    throw new CliError(`cannot read ${JSON.stringify(path)}: ${(cause as Error).message}`, {
      code: "HOIST_CLI_NOT_FOUND",
      operation: "load image",
      input: path,
      cause,
    });
  }
  if (!isDirectory) {
    try {
      return { kind: "image", image: await imageFromTarball(path, { signal: options.signal }) };
    } catch (error) {
      throw wrap(`loading ${path} as tarball`, error);
    }
  }
  let layout: ImageIndex;
  try {
    layout = await imageIndexFromPath(path, { signal: options.signal });
  } catch (error) {
    throw wrap(`loading ${path} as OCI layout`, error);
  }
  if (options.index) return { kind: "index", index: layout };
  const { manifests } = await layout.indexManifest({ signal: options.signal });
  if (manifests.length !== 1) {
    throw new CliError(`layout contains ${manifests.length} entries, consider --index`, {
      code: "HOIST_CLI_INVALID_ARGUMENT",
      operation: "load image",
      input: path,
    });
  }
  const entry = manifests[0] as (typeof manifests)[number];
  if (isImage(entry.mediaType)) {
    return { kind: "image", image: await layout.image(entry.digest, { signal: options.signal }) };
  }
  if (isIndex(entry.mediaType)) {
    return {
      kind: "index",
      index: await layout.imageIndex(entry.digest, { signal: options.signal }),
    };
  }
  throw new CliError(
    `layout contains non-image (mediaType: ${JSON.stringify(entry.mediaType)}), consider --index`,
    { code: "HOIST_CLI_INVALID_ARGUMENT", operation: "load image", input: path },
  );
}
