import type { ProgressUpdate, ProgressView } from "./progress.js";

/**
 * Bytes moved between two young-generation collections. Every 64 KiB read from a socket or a
 * file is a new buffer that only a collection frees; a transfer allocates few other objects, so
 * V8's own collections come late and tens of MiB of spent buffers pile up. Collected as they
 * go, they are reused: a pull of 256 MiB peaked 10 MiB lower and touched 6,500 fewer fresh pages
 * (BENCHMARKS.md).
 */
export const COLLECT_EVERY = 8 * 1024 * 1024;

/**
 * Wraps a progress view so that `collect` runs each time another COLLECT_EVERY bytes are
 * reported complete. A count that goes back (the next image of a copy) starts over.
 */
export function paceCollections(
  view: ProgressView,
  collect: (() => void) | undefined,
): ProgressView {
  if (!collect) return view;
  let last = 0;
  let next = COLLECT_EVERY;
  return {
    update(progress: ProgressUpdate) {
      view.update(progress);
      const { complete } = progress;
      if (complete < last) next = complete + COLLECT_EVERY;
      last = complete;
      if (complete >= next) {
        next = complete + COLLECT_EVERY;
        collect();
      }
    },
    item: (id, state, done, size) => view.item(id, state, done, size),
    stop: () => view.stop(),
  };
}
