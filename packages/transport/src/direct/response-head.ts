// The head of an HTTP/1.1 response, parsed strictly: the direct path hands a response to the
// rest of the transport only when nothing about its framing is in doubt, and leaves every
// other answer to undici (see framing()).

/** Limits on what a response head may hold before it is refused. */
export interface HeadLimits {
  /** Bytes up to and including the blank line. */
  readonly maxBytes: number;
  readonly maxFields: number;
}

export const DEFAULT_HEAD_LIMITS: HeadLimits = { maxBytes: 64 * 1024, maxFields: 256 };

export interface ResponseHead {
  /** The HTTP version of the status line. */
  readonly version: "1.0" | "1.1";
  readonly status: number;
  readonly reason: string;
  /** Field names in lower case, values trimmed, in the order received. */
  readonly fields: ReadonlyArray<readonly [string, string]>;
  /** Bytes the head took, blank line included: the body starts there. */
  readonly length: number;
}

export type HeadParse =
  | { readonly kind: "incomplete" }
  | { readonly kind: "head"; readonly head: ResponseHead }
  | { readonly kind: "invalid"; readonly reason: string };

const CR = 0x0d;
const LF = 0x0a;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
// RFC 9110 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible characters, spaces and tabs, and obs-text; never CR, LF or NUL.
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Where the blank line ending the head ends, or -1 when it has not arrived yet. */
function headEnd(bytes: Uint8Array, limit: number): number {
  const end = Math.min(bytes.length, limit);
  for (let i = 3; i < end; i++) {
    if (bytes[i] === LF && bytes[i - 1] === CR && bytes[i - 2] === LF && bytes[i - 3] === CR) {
      return i + 1;
    }
  }
  return -1;
}

/**
 * Parses the head at the start of `bytes`. Lines must end in CRLF; folded lines, a bare LF,
 * whitespace before a colon and characters outside the grammar make the head invalid.
 */
export function parseResponseHead(
  bytes: Uint8Array,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
): HeadParse {
  const length = headEnd(bytes, limits.maxBytes);
  if (length < 0) {
    return bytes.length >= limits.maxBytes
      ? { kind: "invalid", reason: `the response head is longer than ${limits.maxBytes} bytes` }
      : { kind: "incomplete" };
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, length - 4).toString("latin1");
  const lines = text.split("\r\n");
  const statusLine = STATUS_LINE.exec(lines[0] ?? "");
  if (!statusLine) return { kind: "invalid", reason: "the status line is not HTTP/1.x" };
  if (lines.length - 1 > limits.maxFields) {
    return { kind: "invalid", reason: `the response has more than ${limits.maxFields} fields` };
  }
  const fields: Array<readonly [string, string]> = [];
  for (const line of lines.slice(1)) {
    if (line.includes("\n") || line.includes("\r")) {
      return { kind: "invalid", reason: "a field line ends without CRLF" };
    }
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon);
    if (!TOKEN.test(name)) return { kind: "invalid", reason: "a field name is not a token" };
    const value = line.slice(colon + 1);
    if (!VALUE.test(value)) return { kind: "invalid", reason: `field ${name} has a control byte` };
    fields.push([name.toLowerCase(), value.replace(/^[\t ]+|[\t ]+$/g, "")]);
  }
  return {
    kind: "head",
    head: {
      version: statusLine[1] === "0" ? "1.0" : "1.1",
      status: Number(statusLine[2]),
      reason: statusLine[3] ?? "",
      fields,
      length,
    },
  };
}

export type Framing =
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" }
  | { readonly kind: "none" }
  /** No length and no coding: the body ends where the connection does. */
  | { readonly kind: "close" }
  /** A 1xx answer, which another answer follows. */
  | { readonly kind: "interim" }
  | { readonly kind: "unsupported"; readonly reason: string };

/**
 * How the body of a response is delimited. A body of a stated length, a chunked body, or none,
 * is read on the direct path. A GET leaves bodies read until close and interim (1xx) answers to
 * undici, which asks again; an upload, which cannot be asked again, reads them itself. Other
 * transfer codings, both framings at once (a smuggling risk) and conflicting lengths are never
 * read here.
 */
export function framing(head: ResponseHead): Framing {
  if (head.status < 200) return { kind: "interim" };
  if (head.status === 204 || head.status === 304) return { kind: "none" };
  const codings = head.fields.filter(([name]) => name === "transfer-encoding");
  if (codings.length > 0) {
    if (head.fields.some(([name]) => name === "content-length")) {
      return { kind: "unsupported", reason: "both a Transfer-Encoding and a Content-Length" };
    }
    const coding = codings.map(([, value]) => value.toLowerCase()).join(",");
    return coding === "chunked"
      ? { kind: "chunked" }
      : { kind: "unsupported", reason: `the transfer coding ${coding}` };
  }
  const lengths = head.fields
    .filter(([name]) => name === "content-length")
    .flatMap(([, value]) => value.split(",").map((part) => part.trim()));
  if (lengths.length === 0) return { kind: "close" };
  const first = lengths[0] as string;
  if (!/^[0-9]{1,15}$/.test(first) || lengths.some((value) => value !== first)) {
    return { kind: "unsupported", reason: "a Content-Length that is not one number" };
  }
  return { kind: "length", length: Number(first) };
}

/** The value of a field, when it occurs once; several occurrences are joined with ", ". */
export function fieldValue(head: ResponseHead, name: string): string | undefined {
  const values = head.fields.filter(([field]) => field === name).map(([, value]) => value);
  return values.length === 0 ? undefined : values.join(", ");
}
