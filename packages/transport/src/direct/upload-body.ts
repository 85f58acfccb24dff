// An upload's body, written from a few buffers that are reused as soon as the socket has written
// them: filled by the body's source (FILL, a file), or copied into from each view the source
// hands over (DRAIN, a download being copied). Every read of a blob through a stream is a new
// Buffer whose pages the kernel must fault in; this way an upload touches the same few all along.
import type { Socket } from "node:net";
import { DRAIN, type Drainable, FILL, type Fillable, isFillable } from "@hoist/oci";

/** Bytes each fill asks for. */
export const UPLOAD_BUFFER_BYTES = 256 * 1024;

/**
 * Writes an upload has in flight before its next fill waits for one to finish: 4 MiB, what a
 * loopback socket takes at once. Pushes of 8 × 32 MiB took as long with 1 or 4 MiB.
 */
const MAX_WRITES_IN_FLIGHT = 16;

/** Spare buffers kept for the next upload: enough for a few uploads at once. */
const MAX_SPARE = 64;

/** Upload buffers shared by a transport's connections, each reused once written. */
export class UploadBuffers {
  readonly #spare: Buffer[] = [];

  take(): Buffer {
    return this.#spare.pop() ?? Buffer.allocUnsafeSlow(UPLOAD_BUFFER_BYTES);
  }

  give(buffer: Buffer): void {
    if (this.#spare.length < MAX_SPARE) this.#spare.push(buffer);
  }
}

/** The body's source broke its promise: fewer or more bytes than announced. */
export class UploadLengthError extends Error {
  readonly code = "HOIST_TRANSPORT_BODY_LENGTH";
  constructor(message: string) {
    super(message);
    this.name = "UploadLengthError";
  }
}

/** The writes of one upload still in flight, each buffer going back to the pool once written. */
class Writes {
  readonly #options: PumpOptions;
  #inFlight = 0;
  #waiting: (() => void) | undefined;
  readonly #onClose = () => this.#wake();

  constructor(options: PumpOptions) {
    this.#options = options;
    options.socket.once("close", this.#onClose);
  }

  /** Whether the next write should wait for one in flight to finish. */
  get full(): boolean {
    return this.#inFlight >= MAX_WRITES_IN_FLIGHT;
  }

  /** Resolves when a write in flight has finished, or the socket has closed. */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  write(buffer: Buffer, bytes: number): void {
    const { socket, buffers, onProgress } = this.#options;
    this.#inFlight++;
    socket.write(buffer.subarray(0, bytes), () => {
      this.#inFlight--;
      buffers.give(buffer);
      onProgress();
      this.#wake();
    });
  }

  dispose(): void {
    this.#options.socket.off("close", this.#onClose);
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }
}

export interface PumpOptions {
  readonly socket: Socket;
  readonly source: Fillable | Drainable;
  /** The announced Content-Length. */
  readonly length: number;
  readonly buffers: UploadBuffers;
  /** True once the answer came (or the exchange failed): the rest is not sent. */
  readonly stopped: () => boolean;
  /** Called as the socket takes bytes, to show the upload is moving. */
  readonly onProgress: () => void;
}

/**
 * Writes `length` bytes of `source` on `socket`. Resolves with true when the last byte is queued,
 * false when it stopped early (the answer came first, or the socket closed); rejects
 * with what the source threw, or with an UploadLengthError, before the last byte is written (so
 * the registry never gets a whole body that is wrong).
 */
export function pumpBody(options: PumpOptions): Promise<boolean> {
  const source = options.source;
  return isFillable(source) ? pumpFilled(options, source) : pumpDrained(options, source);
}

async function pumpFilled(options: PumpOptions, source: Fillable): Promise<boolean> {
  const { socket, length, buffers } = options;
  const writes = new Writes(options);
  let remaining = length;
  try {
    while (remaining > 0) {
      if (options.stopped() || socket.destroyed) return false;
      if (writes.full) {
        await writes.settled();
        continue;
      }
      const buffer = buffers.take();
      let filled: number;
      try {
        const pending = source[FILL](buffer.subarray(0, Math.min(buffer.length, remaining)));
        filled = typeof pending === "number" ? pending : await pending;
        if (filled === 0) {
          throw new UploadLengthError(
            `the request body ended after ${length - remaining} of the ${length} bytes its Content-Length announced`,
          );
        }
        remaining -= filled;
        if (remaining === 0) await expectEnd(source, length);
      } catch (error) {
        buffers.give(buffer);
        throw error;
      }
      if (options.stopped() || socket.destroyed) {
        buffers.give(buffer);
        return false;
      }
      writes.write(buffer, filled);
    }
    return true;
  } finally {
    writes.dispose();
  }
}

/** Checks that the source has nothing past the announced length. */
async function expectEnd(source: Fillable, length: number): Promise<void> {
  const probe = new Uint8Array(1);
  const pending = source[FILL](probe);
  const extra = typeof pending === "number" ? pending : await pending;
  if (extra > 0) {
    throw new UploadLengthError(
      `the request body is longer than the ${length} bytes its Content-Length announced`,
    );
  }
}

/** Thrown into a drain to stop it: the answer came, or the connection closed. */
const STOPPED = new Error("the upload stopped");

/**
 * Copies each view the source hands over into the upload's buffers, writing each as it fills.
 * The buffer with the body's last bytes is written only once the drain has resolved, that is,
 * once the source (a verifier) has checked them: a wrong blob never reaches the registry whole.
 */
async function pumpDrained(options: PumpOptions, source: Drainable): Promise<boolean> {
  const { socket, length, buffers } = options;
  const writes = new Writes(options);
  let taken = 0;
  let current: Buffer | undefined;
  let used = 0;
  try {
    await source[DRAIN]((view) => {
      if (options.stopped() || socket.destroyed) throw STOPPED;
      if (taken + view.length > length) {
        throw new UploadLengthError(
          `the request body is longer than the ${length} bytes its Content-Length announced`,
        );
      }
      for (let at = 0; at < view.length; ) {
        current ??= buffers.take();
        const bytes = Math.min(view.length - at, current.length - used);
        current.set(view.subarray(at, at + bytes), used);
        used += bytes;
        at += bytes;
        if (used === current.length && taken + at < length) {
          writes.write(current, used);
          current = undefined;
          used = 0;
        }
      }
      taken += view.length;
      return writes.full ? writes.settled() : undefined;
    });
    if (taken < length) {
      throw new UploadLengthError(
        `the request body ended after ${taken} of the ${length} bytes its Content-Length announced`,
      );
    }
    if (options.stopped() || socket.destroyed) return false;
    if (current !== undefined) writes.write(current, used);
    current = undefined;
    return true;
  } catch (error) {
    if (error === STOPPED) return false;
    throw error;
  } finally {
    if (current !== undefined) buffers.give(current);
    writes.dispose();
  }
}
