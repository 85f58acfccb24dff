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

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
// RFC 9110 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible characters, spaces and tabs, and obs-text; never CR, LF or NUL.
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const END_OF_HEAD = Buffer.from("\r\n\r\n", "latin1");

/** Where the blank line ending the head ends, or -1 when it has not arrived yet. */
function headEnd(bytes: Uint8Array, limit: number): number {
  // Buffer's native search: a body read with its head is not scanned byte by byte in JS.
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, limit));
  const at = view.indexOf(END_OF_HEAD);
  return at < 0 ? -1 : at + 4;
}

/** `value` without the spaces and tabs (HTTP's optional whitespace) around it. */
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
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
  // Indexed loops and no destructuring: this runs for every response, mostly before V8 has
  // optimised it, where each iterator is an object to allocate and collect.
  const fields: Array<readonly [string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.includes("\n") || line.includes("\r")) {
      return { kind: "invalid", reason: "a field line ends without CRLF" };
    }
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon);
    if (!TOKEN.test(name)) return { kind: "invalid", reason: "a field name is not a token" };
    const value = line.slice(colon + 1);
    if (!VALUE.test(value)) return { kind: "invalid", reason: `field ${name} has a control byte` };
    fields.push([name.toLowerCase(), trimOws(value)]);
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
  let coding: string | undefined;
  let lengths: string[] | undefined;
  const fields = head.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as readonly [string, string];
    const name = field[0];
    if (name === "transfer-encoding") {
      const value = field[1].toLowerCase();
      coding = coding === undefined ? value : `${coding},${value}`;
    } else if (name === "content-length") {
      lengths ??= [];
      const parts = field[1].split(",");
      for (let j = 0; j < parts.length; j++) lengths.push((parts[j] as string).trim());
    }
  }
  if (coding !== undefined) {
    if (lengths !== undefined) {
      return { kind: "unsupported", reason: "both a Transfer-Encoding and a Content-Length" };
    }
    return coding === "chunked"
      ? { kind: "chunked" }
      : { kind: "unsupported", reason: `the transfer coding ${coding}` };
  }
  if (lengths === undefined) return { kind: "close" };
  const first = lengths[0] as string;
  if (!/^[0-9]{1,15}$/.test(first) || lengths.some((value) => value !== first)) {
    return { kind: "unsupported", reason: "a Content-Length that is not one number" };
  }
  return { kind: "length", length: Number(first) };
}

/** The value of a field, when it occurs once; several occurrences are joined with ", ". */
export function fieldValue(head: ResponseHead, name: string): string | undefined {
  let joined: string | undefined;
  const fields = head.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as readonly [string, string];
    if (field[0] === name) joined = joined === undefined ? field[1] : `${joined}, ${field[1]}`;
  }
  return joined;
}
