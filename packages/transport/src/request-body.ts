import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { TransportError } from "./errors.js";

/** Bytes that can be sent once. */
export type BodySource =
  | Uint8Array
  | string
  | Readable
  | WebReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

/**
 * A request body. Bytes, strings and factories can be sent again, so such requests may be
 * retried and re-sent after re-authentication; a stream or iterable is sent at most once.
 */
export type RequestBody = BodySource | (() => BodySource | Promise<BodySource>);

export interface PreparedBody {
  readonly replayable: boolean;
  /** Byte length when known up front. */
  readonly length: number | undefined;
  open(): Promise<string | Uint8Array | Readable>;
}

function isWebStream(value: unknown): value is WebReadableStream<Uint8Array> {
  return typeof (value as { getReader?: unknown }).getReader === "function";
}

function toSendable(source: BodySource): string | Uint8Array | Readable {
  if (typeof source === "string" || source instanceof Uint8Array) return source;
  if (source instanceof Readable) return source;
  if (isWebStream(source)) return Readable.fromWeb(source);
  if (typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === "function") {
    return Readable.from(source as AsyncIterable<Uint8Array>, { objectMode: false });
  }
  throw new TransportError(
    "A request body must be a Uint8Array, a string, a stream, an async iterable of bytes, or a function returning one.",
    { code: "HOIST_TRANSPORT_INVALID_OPTIONS", operation: "request" },
  );
}

/**
 * Prepares a request body. `contentLength` announces the length of a stream or function body
 * (sent as Content-Length instead of chunked encoding; undici fails the request if the body
 * turns out longer or shorter). For bytes and strings it must match their length.
 */
export function prepareBody(
  body: RequestBody | undefined,
  contentLength?: number,
): PreparedBody | undefined {
  if (contentLength !== undefined && !(Number.isSafeInteger(contentLength) && contentLength >= 0)) {
    throw new TransportError(
      `contentLength must be a whole number of bytes, 0 or more; got ${JSON.stringify(contentLength)}.`,
      { code: "HOIST_TRANSPORT_INVALID_OPTIONS", operation: "request" },
    );
  }
  if (body === undefined || body === null) {
    if (contentLength !== undefined && contentLength !== 0) {
      throw new TransportError(`contentLength is ${contentLength} but the request has no body.`, {
        code: "HOIST_TRANSPORT_INVALID_OPTIONS",
        operation: "request",
      });
    }
    return undefined;
  }
  const fixed = (length: number) => {
    if (contentLength !== undefined && contentLength !== length) {
      throw new TransportError(
        `contentLength is ${contentLength} but the body is ${length} bytes; leave contentLength out for bytes and strings.`,
        { code: "HOIST_TRANSPORT_INVALID_OPTIONS", operation: "request" },
      );
    }
    return length;
  };
  if (typeof body === "string") {
    return { replayable: true, length: fixed(Buffer.byteLength(body)), open: async () => body };
  }
  if (body instanceof Uint8Array) {
    return { replayable: true, length: fixed(body.byteLength), open: async () => body };
  }
  if (typeof body === "function") {
    return { replayable: true, length: contentLength, open: async () => toSendable(await body()) };
  }
  const sendable = toSendable(body);
  let used = false;
  return {
    replayable: false,
    length: contentLength,
    async open() {
      if (used) {
        throw new TransportError(
          "The request body is a one-shot stream and was already sent; pass a Uint8Array or a function that returns a fresh stream to allow re-sending.",
          { code: "HOIST_TRANSPORT_INVALID_OPTIONS", operation: "request" },
        );
      }
      used = true;
      return sendable;
    },
  };
}
