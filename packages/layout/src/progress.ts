/** How far a write has come. */
export interface LayoutProgress {
  /** Bytes of blobs written so far; blobs already present (and verified) count as written. */
  writtenBytes: number;
  /**
   * Bytes of all blobs the write knows of so far. It grows while a streamed layer (whose size is
   * not known in advance) is written, and when manifests that depend on streamed layers are made.
   */
  totalBytes: number;
}

/** @internal Adds up bytes of distinct blobs and reports each change. */
export class ProgressTracker {
  #written = 0;
  #total = 0;
  readonly #expected = new Set<string>();
  readonly #report: ((progress: LayoutProgress) => void) | undefined;

  constructor(report: ((progress: LayoutProgress) => void) | undefined) {
    this.#report = report;
  }

  /** A blob that will be written (once, however often it is expected). */
  expect(digest: string, size: number): void {
    if (this.#expected.has(digest)) return;
    this.#expected.add(digest);
    this.#total += size;
  }

  /** Bytes of an expected blob reached the disk (or were found there). */
  written(bytes: number): void {
    this.#written += bytes;
    this.#emit();
  }

  /** Bytes of a blob of unknown size: they add to both counts. */
  streamed(bytes: number): void {
    this.#total += bytes;
    this.#written += bytes;
    this.#emit();
  }

  #emit(): void {
    this.#report?.({ writtenBytes: this.#written, totalBytes: this.#total });
  }
}
