import { Readable } from "node:stream";
import { SizeMismatchError } from "@hoist/oci";
import type { TransportResponse } from "@hoist/transport";
import { RemoteError } from "./errors.js";
import { translateError } from "./translate-error.js";

export interface ResumableBodyOptions {
  /** The first response, already accepted (200). */
  first: TransportResponse;
  /** Re-opens the blob from `offset` (sending `Range: bytes=<offset>-`). */
  open: (offset: number) => Promise<TransportResponse>;
  /** The size the blob must have, when known. */
  size: number | undefined;
  signal: AbortSignal | undefined;
  /** "download blob", for error messages. */
  operation: string;
  reference: string;
  /** Resumes allowed without any byte of progress in between. Default 3. */
  maxStalledResumes?: number;
  /** Resumes allowed in all. Default 20. */
  maxResumes?: number;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

function isAbortError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "AbortError";
}

/** The announced length of a response, when it sent a valid one. */
export function contentLength(response: TransportResponse): number | undefined {
  const header = response.headers.get("content-length");
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  const value = Number(header);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * A blob body that survives dropped connections: when the stream breaks off (a reset, a
 * truncated body, a stalled socket the transport timed out), the blob is re-requested from the
 * first byte not yet delivered with `Range`. A `206` must start exactly there; a `200` (a
 * server or CDN that ignores `Range`) is read from the start with the bytes already delivered
 * skipped, so nothing is duplicated. The caller still verifies digest and size: resuming
 * changes where bytes come from, never what is trusted.
 */
export function resumableBody(options: ResumableBodyOptions): Readable {
  const { open, size, signal } = options;
  const maxStalled = options.maxStalledResumes ?? 3;
  const maxResumes = options.maxResumes ?? 20;
  const announced = contentLength(options.first);
  if (size !== undefined && announced !== undefined && announced !== size) {
    options.first.body.destroy();
    throw new SizeMismatchError({
      expected: size,
      actual: announced,
      kind: announced > size ? "excess" : "truncated",
      operation: options.operation,
    });
  }
  // Where the body ends: what the descriptor says, else what the first response announced.
  const end = size ?? announced;

  async function* chunks(): AsyncGenerator<Buffer> {
    let response = options.first;
    let delivered = 0;
    let skip = 0;
    let stalled = 0;
    let resumes = 0;
    for (;;) {
      let progressed = false;
      let failure: unknown;
      try {
        for await (const chunk of response.body) {
          let buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
          if (skip > 0) {
            if (buffer.length <= skip) {
              skip -= buffer.length;
              continue;
            }
            buffer = buffer.subarray(skip);
            skip = 0;
          }
          delivered += buffer.length;
          progressed = true;
          yield buffer;
        }
        if (skip === 0 && (end === undefined || delivered >= end)) return;
        failure = new Error(`the body ended after ${delivered} of ${end ?? "?"} bytes`);
      } catch (error) {
        if (signal?.aborted || isAbortError(error)) throw error;
        failure = error;
      }
      stalled = progressed ? 1 : stalled + 1;
      resumes++;
      if (stalled > maxStalled || resumes > maxResumes) {
        const translated = translateError(failure, {
          operation: options.operation,
          reference: options.reference,
          signal,
        });
        if (translated instanceof Error && !RemoteError.is(translated)) {
          throw new RemoteError(
            `${options.operation} ${options.reference}: the connection kept failing after ${delivered} bytes (${resumes - 1} resumes): ${translated.message}`,
            {
              code: "HOIST_REMOTE_NETWORK",
              operation: options.operation,
              reference: options.reference,
              cause: failure,
            },
          );
        }
        throw translated;
      }
      response = await open(delivered);
      skip = 0;
      if (response.status === 206) {
        const range = CONTENT_RANGE.exec(response.headers.get("content-range")?.trim() ?? "");
        if (!range || Number(range[1]) !== delivered) {
          response.body.destroy();
          throw new RemoteError(
            `${options.operation} ${options.reference}: asked to resume at byte ${delivered}, the server answered Content-Range ${JSON.stringify(response.headers.get("content-range"))}`,
            {
              code: "HOIST_REMOTE_BAD_RESPONSE",
              operation: options.operation,
              reference: options.reference,
              status: 206,
            },
          );
        }
      } else {
        // The server ignored Range and sends the whole blob: drop what was delivered already.
        skip = delivered;
      }
    }
  }

  return Readable.from(chunks(), { objectMode: false });
}
