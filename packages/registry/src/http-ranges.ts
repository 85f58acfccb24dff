/** What a blob GET's `Range` header asks for, given the blob's size. */
export type RangeRequest =
  | { kind: "whole" }
  | { kind: "range"; start: number; end: number }
  /** Well-formed but outside the blob: answered with 416 and `Content-Range: bytes *\/size`. */
  | { kind: "unsatisfiable" }
  /** Malformed (`items=0-1`, `bytes=5-2`): distribution answers 416 too. */
  | { kind: "invalid" };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

/**
 * Reads an RFC 9110 `Range` header for a representation of `size` bytes. Only single byte
 * ranges are honoured; a list of ranges is answered with the whole blob, which RFC 9110
 * permits (a server may ignore Range).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: "whole" };
  const value = header.trim();
  if (/^bytes=.*,/.test(value)) return { kind: "whole" };
  const match = SINGLE.exec(value);
  if (!match) return { kind: "invalid" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "invalid" };
  if (first === "") {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return { kind: "invalid" };
  if (start >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: "range", start, end };
}

/**
 * Reads an upload chunk's `Content-Range`: the spec's `<start>-<end>` (inclusive), also
 * accepting the `bytes=` or `bytes ` prefix and a `/total` suffix some clients add.
 */
export function parseContentRange(header: string): { start: number; end: number } | undefined {
  const match = /^(?:bytes[= ])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  return { start, end };
}

/** The `Range` header of upload answers: `0-<last byte>`, and `0-0` while empty, as distribution does. */
export function uploadRange(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}
