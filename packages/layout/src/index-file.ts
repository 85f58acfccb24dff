import { join } from "node:path";
import { type IndexManifest, MediaType, OciError, parseIndexManifest } from "@hoist/oci";
import { LayoutError, quote } from "./errors.js";
import { readCapped, writeFileAtomic } from "./files.js";
import { INDEX_FILE } from "./paths.js";

/** @internal index.json of a new layout. */
export function emptyIndexJson(): IndexManifest {
  return { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] };
}

/**
 * @internal The bytes index.json is written as: indented with three spaces, as
 * go-containerregistry writes it, with a final newline. Fields the document carried and this
 * package does not know are kept, in their order.
 */
export function encodeIndexJson(index: IndexManifest): Uint8Array {
  return Buffer.from(`${JSON.stringify(index, null, 3)}\n`, "utf8");
}

/** @internal Reads and validates index.json; every digest in it is checked before use. */
export async function readIndexJson(
  root: string,
  options: { maxBytes: number; operation: string; signal?: AbortSignal },
): Promise<{ raw: Uint8Array; index: IndexManifest }> {
  const { operation } = options;
  const path = join(root, INDEX_FILE);
  const read = await readCapped(path, options.maxBytes, options);
  if (read.kind === "missing") {
    throw new LayoutError(
      `${quote(root)} has no index.json; every OCI layout needs one (create the layout with createLayout)`,
      { code: "HOIST_LAYOUT_MISSING_INDEX", operation, path },
    );
  }
  if (read.kind === "too-large") {
    throw new LayoutError(
      `${quote(path)} is ${read.size} bytes, more than the ${options.maxBytes}-byte limit; raise maxManifestBytes if the layout is trusted`,
      { code: "HOIST_LAYOUT_INVALID_INDEX", operation, path },
    );
  }
  try {
    return {
      raw: read.bytes,
      index: parseIndexManifest(read.bytes, { maxBytes: options.maxBytes }),
    };
  } catch (error) {
    const reason = OciError.is(error) ? error.message : String(error);
    throw new LayoutError(
      `${quote(path)} is not a valid image index (${reason}); nothing was read from the layout`,
      { code: "HOIST_LAYOUT_INVALID_INDEX", operation, path, cause: error },
    );
  }
}

/** @internal Replaces index.json atomically. */
export function writeIndexJson(
  root: string,
  index: IndexManifest | Uint8Array,
  options: { operation: string; signal?: AbortSignal },
): Promise<void> {
  const bytes = index instanceof Uint8Array ? index : encodeIndexJson(index);
  return writeFileAtomic(join(root, INDEX_FILE), bytes, options);
}
