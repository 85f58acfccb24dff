import { quote, TarballError } from "./errors.js";

// A reader of tar header blocks, for indexing a docker-save archive on disk: tar-stream reads
// archives front to back and cannot skip an entry's data without reading it, while an index
// needs only the headers, each read at a known offset. Entry data (layer tars) is read with
// tar-stream elsewhere. Formats: POSIX ustar and pax ('x' and 'g' records), GNU ('L'/'K' long
// names, base-256 sizes) and old v7 headers, as Go's archive/tar and GNU tar read them.

export const BLOCK = 512;

/** The kind of a header, by its type flag. */
export type HeaderKind =
  | "file"
  | "link"
  | "symlink"
  | "directory"
  | "pax"
  | "pax-global"
  | "gnu-long-name"
  | "gnu-long-link"
  | "other";

export interface TarHeader {
  /** The name in the header, with the ustar prefix applied. */
  name: string;
  linkname: string;
  /** Bytes of data that follow the header (0 for header-only types such as links). */
  size: number;
  kind: HeaderKind;
  /** The raw type flag character ("0", "5", "x", …; "\0" reads as a file). */
  typeflag: string;
}

function invalid(message: string, operation: string): TarballError {
  return new TarballError(message, { code: "HOIST_TARBALL_INVALID_ARCHIVE", operation });
}

function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return Buffer.from(end === -1 ? field : field.subarray(0, end)).toString("utf8");
}

/**
 * A numeric field: octal digits padded with spaces or NULs, or GNU base-256 (first byte has its
 * high bit set) for values that do not fit. Returns undefined when the field is malformed.
 */
export function parseNumeric(field: Uint8Array): number | undefined {
  const first = field[0];
  if (first === undefined) return undefined;
  if (first & 0x80) {
    // Base-256, big endian; 0xff marks a negative number, which no size or mode may be.
    if (first === 0xff) return undefined;
    let value = first & 0x7f;
    for (let index = 1; index < field.length; index++) {
      value = value * 256 + (field[index] as number);
      if (!Number.isSafeInteger(value)) return undefined;
    }
    return value;
  }
  let value = 0;
  let seenDigit = false;
  let ended = false;
  for (const byte of field) {
    if (byte === 0x20 || byte === 0) {
      if (seenDigit) ended = true;
      continue;
    }
    if (ended || byte < 0x30 || byte > 0x37) return undefined;
    value = value * 8 + (byte - 0x30);
    seenDigit = true;
  }
  return Number.isSafeInteger(value) ? value : undefined;
}

function kindOf(typeflag: string, name: string): HeaderKind {
  switch (typeflag) {
    case "0":
    case "\0":
    case "7":
      // v7 archives mark directories only by a trailing slash.
      return name.endsWith("/") ? "directory" : "file";
    case "1":
      return "link";
    case "2":
      return "symlink";
    case "5":
      return "directory";
    case "x":
      return "pax";
    case "g":
      return "pax-global";
    case "L":
      return "gnu-long-name";
    case "K":
      return "gnu-long-link";
    default:
      return "other";
  }
}

// Types whose size field describes no data (Go's isHeaderOnlyType): hard and symbolic links,
// devices, directories and FIFOs.
const HEADER_ONLY = new Set(["1", "2", "3", "4", "5", "6"]);

/** True when the block is all zeros: the end-of-archive marker. */
export function isZeroBlock(block: Uint8Array): boolean {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}

/**
 * Decodes one 512-byte header block. Throws `HOIST_TARBALL_INVALID_ARCHIVE` when the checksum
 * does not match (the bytes are not a tar header) or a numeric field is malformed.
 */
export function decodeHeader(block: Uint8Array, operation: string): TarHeader {
  if (block.length !== BLOCK) throw invalid(`a tar header is ${BLOCK} bytes`, operation);
  const stored = parseNumeric(block.subarray(148, 156));
  let unsigned = 0;
  let signed = 0;
  for (let index = 0; index < BLOCK; index++) {
    const byte = index >= 148 && index < 156 ? 0x20 : (block[index] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Old tars summed signed bytes; Go and GNU tar accept either sum.
  if (stored === undefined || (stored !== unsigned && stored !== signed)) {
    throw invalid(
      "a tar header's checksum does not match: the data is not a tar archive, is corrupt, or is compressed",
      operation,
    );
  }
  const magic = Buffer.from(block.subarray(257, 265)).toString("latin1");
  let name = text(block, 0, 100);
  // Only POSIX ustar has the prefix field; GNU keeps access times in those bytes.
  if (magic === "ustar\u000000") {
    const prefix = text(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const typeflag = String.fromCharCode(block[156] as number);
  const declared = parseNumeric(block.subarray(124, 136));
  if (declared === undefined) {
    throw invalid(`the size field of tar entry ${quote(name)} is malformed`, operation);
  }
  return {
    name,
    linkname: text(block, 157, 100),
    size: HEADER_ONLY.has(typeflag) ? 0 : declared,
    kind: kindOf(typeflag, name),
    typeflag,
  };
}

/**
 * Parses pax extended header records ("<length> <key>=<value>\n"). Throws
 * `HOIST_TARBALL_INVALID_ARCHIVE` on a malformed record rather than guessing.
 */
export function parsePaxRecords(data: Uint8Array, operation: string): Map<string, string> {
  const records = new Map<string, string>();
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  while (offset < bytes.length) {
    // Trailing NUL padding ends the records.
    if (bytes[offset] === 0) break;
    const space = bytes.indexOf(0x20, offset);
    const lengthText = space === -1 ? "" : bytes.toString("latin1", offset, space);
    const length = /^[1-9][0-9]{0,9}$/.test(lengthText) ? Number(lengthText) : Number.NaN;
    const end = offset + length;
    if (
      !Number.isFinite(length) ||
      end > bytes.length ||
      end <= space + 1 ||
      bytes[end - 1] !== 0x0a
    ) {
      throw invalid("a pax extended header record is malformed", operation);
    }
    const record = bytes.toString("utf8", space + 1, end - 1);
    const equals = record.indexOf("=");
    if (equals <= 0) throw invalid("a pax extended header record has no key", operation);
    records.set(record.slice(0, equals), record.slice(equals + 1));
    offset = end;
  }
  return records;
}

/** A GNU long name or link body: the text up to the first NUL. */
export function parseLongName(data: Uint8Array): string {
  return text(data, 0, data.length);
}

/** Bytes an entry of `size` data bytes occupies after its header (padded to whole blocks). */
export function paddedSize(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}
