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

export function prepareBody(body: RequestBody | undefined): PreparedBody | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") {
    return { replayable: true, length: Buffer.byteLength(body), open: async () => body };
  }
  if (body instanceof Uint8Array) {
    return { replayable: true, length: body.byteLength, open: async () => body };
  }
  if (typeof body === "function") {
    return { replayable: true, length: undefined, open: async () => toSendable(await body()) };
  }
  const sendable = toSendable(body);
  let used = false;
  return {
    replayable: false,
    length: undefined,
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
