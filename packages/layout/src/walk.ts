import { type Descriptor, type ImageIndex, isIndex } from "@hoist/oci";
import { LayoutError } from "./errors.js";
import { MAX_INDEX_DEPTH } from "./write-tree.js";

/** @internal An entry of an index, with the index it was found in. */
export interface WalkEntry {
  descriptor: Descriptor;
  parent: ImageIndex;
}

/**
 * @internal The entries of `root`, then of the indexes it points at, level by level (breadth
 * first). A nested index is read only when the consumer asks for its level, and once however
 * often it is referenced. Nested indexes whose blob the layout lacks are skipped: the spec lets a
 * layout omit blobs.
 */
export async function* indexLevels(
  root: ImageIndex,
  options: { signal?: AbortSignal; operation: string },
): AsyncGenerator<WalkEntry[]> {
  const { signal } = options;
  const seen = new Set<string>();
  let level: ImageIndex[] = [root];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > MAX_INDEX_DEPTH) {
      throw new LayoutError(
        `indexes nest more than ${MAX_INDEX_DEPTH} levels deep; refusing to follow them further`,
        {
          code: "HOIST_LAYOUT_INVALID_INDEX",
          operation: options.operation,
        },
      );
    }
    const entries: WalkEntry[] = [];
    const nested: WalkEntry[] = [];
    for (const parent of level) {
      for (const descriptor of (await parent.indexManifest({ signal })).manifests) {
        entries.push({ descriptor, parent });
        const key = String(descriptor.digest);
        if (isIndex(descriptor.mediaType) && !seen.has(key)) {
          seen.add(key);
          nested.push({ descriptor, parent });
        }
      }
    }
    yield entries;
    const next: ImageIndex[] = [];
    for (const { descriptor, parent } of nested) {
      try {
        next.push(await parent.imageIndex(descriptor.digest, { signal }));
      } catch (error) {
        if (!LayoutError.is(error) || error.code !== "HOIST_LAYOUT_BLOB_NOT_FOUND") throw error;
      }
    }
    level = next;
  }
}
