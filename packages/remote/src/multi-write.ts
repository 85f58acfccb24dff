import type { Taggable } from "./descriptor.js";
import { RemoteError } from "./errors.js";
import { type ReferenceInput, toReference } from "./references.js";
import type { Pushable, PushEntry } from "./write.js";

// go-containerregistry's multi_write.go: many references pushed as one operation (one plan,
// one job limit, each distinct blob once). This checks the entries; write.ts pushes them.

/** The entries of a multiWrite, validated. */
export function multiWriteEntries(
  entries: Iterable<readonly [ReferenceInput, Pushable]>,
): PushEntry[] {
  const list: PushEntry[] = [];
  for (const [reference, item] of entries) {
    const ref = toReference(reference, "multi write");
    if (typeof (item as Taggable | null)?.rawManifest !== "function") {
      throw new RemoteError(
        `multi write ${ref.name}: expected an image, an index or a manifest, got ${item === null ? "null" : typeof item}`,
        { code: "HOIST_REMOTE_INVALID_ARGUMENT", operation: "multi write", reference: ref.name },
      );
    }
    list.push({ reference: ref, item });
  }
  return list;
}
