import { readSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { FILL, type Fillable } from "@hoist/oci";

/** Bytes per read: Node's own file streams read 64 KiB at a time. */
const CHUNK = 64 * 1024;

/**
 * A read that takes longer than this waited for the disk, not the page cache (a cached 64 KiB
 * read takes tens of microseconds). From then on the stream reads on libuv's thread pool.
 */
const SLOW_READ_MS = 2;

/**
 * Bytes of a file read synchronously before the rest goes to the thread pool. Every chunk is a
 * new 64 KiB buffer that V8 frees only at its next collection, and synchronous reads make so
 * little other garbage that collections come late: pushing 8 × 32 MiB all synchronously peaked
 * at 86-100 MiB against 78-84. Past the first 4 MiB the thread pool's per-read garbage keeps
 * them coming (80-84 MiB), and blobs up to 4 MiB, most of an image's files, are read at full
 * speed.
 */
const SYNC_BYTES = 4 * 1024 * 1024;

/**
 * @internal Reads a file from the start to its end, closing the handle when done or destroyed.
 *
 * A read through the thread pool costs the main thread a hand-off and a wake-up each time: on the
 * 2-core machine, reading and hashing 64 MiB took 250 ms that way against 140-160 ms reading it
 * synchronously, and the main thread is what a push waits on. Layout files are usually in the
 * page cache (just written or just read), so this stream reads synchronously while reads stay
 * quick; after the first slow one it reads asynchronously, so a cold disk never holds the event
 * loop for more than one read per file. Only a file's first SYNC_BYTES are read this way.
 */
export class FileReadStream extends Readable implements Fillable {
  readonly #handle: FileHandle;
  readonly #slowReadMs: number;
  readonly #syncBytes: number;
  #position = 0;
  #threadPool = false;
  /** Whether the file is being read by fills (see FILL) rather than as a stream. */
  #filling = false;

  /**
   * The options are for tests: a negative `slowReadMs` takes every read for slow, `syncBytes`
   * replaces SYNC_BYTES.
   */
  constructor(handle: FileHandle, options: { slowReadMs?: number; syncBytes?: number } = {}) {
    super({ highWaterMark: CHUNK });
    this.#handle = handle;
    this.#slowReadMs = options.slowReadMs ?? SLOW_READ_MS;
    this.#syncBytes = options.syncBytes ?? SYNC_BYTES;
  }

  /**
   * Reads the next bytes into the caller's buffer, synchronously while reads stay quick (the
   * caller reuses its buffers, so none of the garbage that limits SYNC_BYTES is made), on the
   * thread pool after the first slow one. The file is closed once it has been read to its end.
   */
  [FILL](into: Uint8Array): number | Promise<number> {
    if (this.readableDidRead || this.readableFlowing !== null) {
      throw new Error("the file is already being read as a stream, so it cannot be filled");
    }
    if (this.destroyed) throw new Error("the file was closed before it was read to its end");
    this.#filling = true;
    const failed = (error: unknown): never => {
      this.destroy();
      throw error;
    };
    if (this.#threadPool) {
      return this.#handle
        .read(into, 0, into.length, this.#position)
        .then(({ bytesRead }) => this.#filled(bytesRead), failed);
    }
    const started = performance.now();
    let bytesRead: number;
    try {
      bytesRead = readSync(this.#handle.fd, into, 0, into.length, this.#position);
    } catch (error) {
      return failed(error);
    }
    if (performance.now() - started > this.#slowReadMs) this.#threadPool = true;
    return this.#filled(bytesRead);
  }

  #filled(bytesRead: number): number {
    this.#position += bytesRead;
    if (bytesRead === 0) this.destroy();
    return bytesRead;
  }

  override _read(): void {
    if (this.#filling) {
      this.destroy(new Error("the file is being filled, so it cannot be read as a stream too"));
      return;
    }
    const buffer = Buffer.allocUnsafe(CHUNK);
    if (this.#threadPool || this.#position >= this.#syncBytes) {
      this.#handle.read(buffer, 0, CHUNK, this.#position).then(
        ({ bytesRead }) => this.#deliver(buffer, bytesRead),
        (error: unknown) => this.destroy(error as Error),
      );
      return;
    }
    const started = performance.now();
    let bytesRead: number;
    try {
      bytesRead = readSync(this.#handle.fd, buffer, 0, CHUNK, this.#position);
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    if (performance.now() - started > this.#slowReadMs) this.#threadPool = true;
    this.#deliver(buffer, bytesRead);
  }

  #deliver(buffer: Buffer, bytesRead: number): void {
    if (this.destroyed) return;
    if (bytesRead === 0) {
      this.push(null);
      return;
    }
    this.#position += bytesRead;
    this.push(bytesRead < CHUNK ? buffer.subarray(0, bytesRead) : buffer);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#handle.close().then(
      () => callback(error),
      (closeError: unknown) => callback(error ?? (closeError as Error)),
    );
  }
}
