import type { Progress } from "./options.js";

/**
 * Progress of one push or copy. `total` is planned up front (distinct blobs plus
 * manifests); content whose size is unknown until read (streamed layers and what depends on
 * them) adds to `total` and `complete` together as it flows. Updates are monotone and the
 * last one has `complete === total`.
 */
export class ProgressTracker {
  readonly #listener: ((progress: Progress) => void) | undefined;
  #complete = 0;
  #total = 0;

  constructor(listener: ((progress: Progress) => void) | undefined) {
    this.#listener = listener;
  }

  get complete(): number {
    return this.#complete;
  }

  get total(): number {
    return this.#total;
  }

  /** Plans `bytes` more (before any of them are reported complete). */
  plan(bytes: number): void {
    this.#total += bytes;
  }

  /** Reports `bytes` of planned content as done. */
  advance(bytes: number): void {
    if (bytes <= 0) return;
    this.#complete = Math.min(this.#total, this.#complete + bytes);
    this.#emit();
  }

  /** Content that was not planned: counted in both totals as it flows. */
  unplanned(bytes: number): void {
    if (bytes <= 0) return;
    this.#total += bytes;
    this.#complete += bytes;
    this.#emit();
  }

  /** Sends the first update (0 of total) once the plan is complete. */
  start(): void {
    this.#emit();
  }

  /** A counter for one blob of `size` planned bytes: retries never count bytes twice. */
  counter(size: number | undefined): BlobCounter {
    return new BlobCounter(this, size);
  }

  #emit(): void {
    this.#listener?.({ complete: this.#complete, total: this.#total });
  }
}

/** Bytes of one blob: reports the furthest any attempt got, and exactly `size` at the end. */
export class BlobCounter {
  readonly #tracker: ProgressTracker;
  readonly #size: number | undefined;
  #reported = 0;

  constructor(tracker: ProgressTracker, size: number | undefined) {
    this.#tracker = tracker;
    this.#size = size;
  }

  /** The current attempt has sent `bytes` in all. */
  at(bytes: number): void {
    if (this.#size === undefined) {
      this.#tracker.unplanned(bytes - this.#reported);
      this.#reported = Math.max(this.#reported, bytes);
      return;
    }
    const capped = Math.min(bytes, this.#size);
    if (capped > this.#reported) {
      this.#tracker.advance(capped - this.#reported);
      this.#reported = capped;
    }
  }

  /** The blob is in place (uploaded, found or mounted). */
  done(): void {
    if (this.#size !== undefined) this.at(this.#size);
  }
}
