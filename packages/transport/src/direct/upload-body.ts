// An upload's body, written from a few buffers that are filled by the body's source (FILL) and
// reused as soon as the socket has written them. Every read of a blob through a stream is a new
// Buffer whose pages the kernel must fault in; this way a push touches the same few all along.
import type { Socket } from "node:net";
import { FILL, type Fillable } from "@hoist/oci";

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

export interface PumpOptions {
  readonly socket: Socket;
  readonly source: Fillable;
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
export async function pumpBody(options: PumpOptions): Promise<boolean> {
  const { socket, source, length, buffers } = options;
  let remaining = length;
  let inFlight = 0;
  let written: (() => void) | undefined;
  const onClose = () => written?.();
  socket.once("close", onClose);
  try {
    while (remaining > 0) {
      if (options.stopped() || socket.destroyed) return false;
      if (inFlight >= MAX_WRITES_IN_FLIGHT) {
        await new Promise<void>((resolve) => {
          written = resolve;
        });
        written = undefined;
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
      inFlight++;
      socket.write(buffer.subarray(0, filled), () => {
        inFlight--;
        buffers.give(buffer);
        options.onProgress();
        written?.();
      });
    }
    return true;
  } finally {
    socket.off("close", onClose);
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
