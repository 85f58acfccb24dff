import type { IncomingMessage } from "node:http";
import { apiError } from "./distribution-error.js";

/** The request's declared Content-Length, undefined when absent (chunked) or unparsable. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers["content-length"];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** True when the request carries a body (a non-zero length, or chunked encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = declaredLength(req);
  if (length !== undefined) return length > 0;
  return req.headers["transfer-encoding"] !== undefined;
}

export interface BodySourceOptions {
  /** The exact byte count the body must have (Content-Length or a Content-Range's span). */
  expected?: number;
  /** Most bytes accepted in total; more is answered with 413. */
  max?: number;
  /** Sees each chunk as it passes (to hash it). */
  onChunk?: (chunk: Buffer) => void;
}

/**
 * The request body as chunks, checked while it streams: more bytes than `expected` or `max`
 * fail at once with SIZE_INVALID (the excess is never yielded), fewer than `expected` fail at
 * the end. A client that disconnects makes the iteration throw Node's "aborted" error.
 */
export async function* bodySource(
  req: IncomingMessage,
  options: BodySourceOptions = {},
): AsyncGenerator<Buffer> {
  let received = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (options.max !== undefined && received > options.max) {
      throw apiError(
        413,
        "SIZE_INVALID",
        `the content is larger than the ${options.max} bytes this registry accepts`,
        {
          limit: options.max,
        },
      );
    }
    if (options.expected !== undefined && received > options.expected) {
      throw apiError(
        400,
        "SIZE_INVALID",
        `the body is longer than the ${options.expected} bytes declared`,
        {
          declared: options.expected,
        },
      );
    }
    options.onChunk?.(chunk);
    yield chunk;
  }
  if (options.expected !== undefined && received !== options.expected) {
    throw apiError(
      400,
      "SIZE_INVALID",
      `the body has ${received} bytes, not the ${options.expected} declared`,
      {
        declared: options.expected,
        received,
      },
    );
  }
}

/** Reads a small body whole (a manifest), refusing more than `max` bytes with 413. */
export async function readSmallBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const length = declaredLength(req);
  if (length !== undefined && length > max) {
    throw apiError(
      413,
      "SIZE_INVALID",
      `the manifest is ${length} bytes; this registry accepts at most ${max}`,
      {
        limit: max,
        size: length,
      },
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of bodySource(req, { max, expected: length })) chunks.push(chunk);
  return Buffer.concat(chunks);
}
