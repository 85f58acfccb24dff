import { mkdir, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { createLayout, type Layout } from "@hoist/layout";

/** A new OCI layout being made while the images that go into it are fetched. */
export interface EarlyLayout {
  /** The layout made early, or undefined when the path existed (or its parent did not). */
  layout(): Promise<Layout | undefined>;
  /** Removes what was made early: for a pull that failed before writing anything. */
  discard(): Promise<void>;
}

// The files createLayout puts in an empty directory (blobs/<alg>/ comes only with a blob).
const MADE = ["oci-layout", "index.json"];

/**
 * Starts making a layout at `path` while the registry answers: its flushes to disk take 7-9 ms
 * of a pull on the 2-core machine and otherwise come between the manifest and the first layer.
 * crane makes the layout only once the manifests are in, so a pull that fails before then
 * leaves nothing behind; to keep that, only a directory this call creates itself is filled
 * early (an existing one is left for the pull to open as before), and discard() empties and
 * removes it again.
 */
export function startLayout(path: string, options: { signal?: AbortSignal } = {}): EarlyLayout {
  // mkdir without `recursive` fails when the path exists or its parent does not.
  const made = mkdir(path).then(
    () => true,
    () => false,
  );
  const layout = made.then((fresh) => (fresh ? createLayout(path, options) : undefined));
  // Awaited by the pull or by discard(); never an unhandled rejection meanwhile.
  layout.catch(() => {});
  return {
    layout: () => layout,
    async discard() {
      if (!(await made)) return;
      await layout.catch(() => {});
      for (const name of MADE) await unlink(join(path, name)).catch(() => {});
      await rmdir(join(path, "blobs")).catch(() => {});
      // Fails, and keeps them, if anything else has appeared in it meanwhile.
      await rmdir(path).catch(() => {});
    },
  };
}
