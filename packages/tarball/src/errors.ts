/**
 * Every error code of `@hoist/tarball`. The code is the contract callers match on; messages may
 * change between versions. The package README explains each one.
 */
export const TARBALL_ERROR_CODES = [
  /** An option or argument is invalid (a bad tag, an empty image list, a duplicate tag). */
  "HOIST_TARBALL_INVALID_ARGUMENT",
  /** The bytes are not a tar archive: a header's checksum or format is wrong. */
  "HOIST_TARBALL_INVALID_ARCHIVE",
  /** The archive ends in the middle of a header or an entry's data. */
  "HOIST_TARBALL_TRUNCATED",
  /** `manifest.json`, or a file it names, is not in the archive. */
  "HOIST_TARBALL_MISSING_ENTRY",
  /** `manifest.json` is not valid JSON of the expected shape, or disagrees with a config. */
  "HOIST_TARBALL_INVALID_MANIFEST",
  /** No image in the tarball carries the tag asked for. */
  "HOIST_TARBALL_IMAGE_NOT_FOUND",
  /** No tag was given and the tarball holds more (or fewer) than one image. */
  "HOIST_TARBALL_AMBIGUOUS_IMAGE",
  /** A path or link target escapes the root, is absolute, or leads through a symlink. */
  "HOIST_TARBALL_UNSAFE_PATH",
  /** Links inside the archive form a cycle or a chain too long to follow. */
  "HOIST_TARBALL_LINK_CYCLE",
  /** Decompressed layer data passed the configured byte or ratio cap (a gzip bomb). */
  "HOIST_TARBALL_DECOMPRESSION_LIMIT",
  /** A foreign layer's blob is not in the tarball; only its uncompressed tar is. */
  "HOIST_TARBALL_FOREIGN_LAYER",
  /** Compressed layer data is corrupt or truncated; `cause` holds zlib's error. */
  "HOIST_TARBALL_DECOMPRESS_FAILED",
  /** The layer is zstd-compressed, which this package cannot decompress. */
  "HOIST_TARBALL_UNSUPPORTED_COMPRESSION",
  /** A local file could not be opened or read; `cause` holds the system error. */
  "HOIST_TARBALL_READ_FAILED",
  /** The output could not be written; `cause` holds the system or stream error. */
  "HOIST_TARBALL_WRITE_FAILED",
  /** A tarball was read after `close()`. */
  "HOIST_TARBALL_CLOSED",
] as const;

/** One of {@link TARBALL_ERROR_CODES}. */
export type TarballErrorCode = (typeof TARBALL_ERROR_CODES)[number];

const BRAND = Symbol.for("@hoist/tarball.error");

export interface TarballErrorOptions {
  code: TarballErrorCode;
  /** What was being done: "read tarball", "write tarball", "export image", … */
  operation: string;
  /** The offending input (a path inside the archive, a tag), when short and safe to show. */
  input?: string;
  cause?: unknown;
}

/**
 * The one base class of every error this package throws itself. Match on
 * {@link TarballError.code}; use {@link TarballError.is} rather than `instanceof`, which fails
 * across duplicate installs. Digest and size mismatches found while bytes stream are
 * `@hoist/oci`'s `DigestMismatchError` / `SizeMismatchError`, shared by every hoist package.
 */
export class TarballError extends Error {
  readonly code: TarballErrorCode;
  readonly operation: string;
  readonly input: string | undefined;

  constructor(message: string, options: TarballErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TarballError";
    this.code = options.code;
    this.operation = options.operation;
    this.input = options.input;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any error thrown by any copy of `@hoist/tarball`. */
  static is(value: unknown): value is TarballError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true
    );
  }
}

// Untrusted strings end up in messages; quoting escapes control characters and the cap keeps a
// hostile multi-megabyte name from becoming a multi-megabyte message.
const MAX_QUOTED = 160;

/** @internal Quotes a value for an error message. */
export function quote(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  const shown = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
  return JSON.stringify(shown);
}

/** @internal The system error's code, or its message. */
export function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.message : String(error);
}

/** @internal */
export function invalidArgument(message: string, operation: string, input?: string): TarballError {
  return new TarballError(message, { code: "HOIST_TARBALL_INVALID_ARGUMENT", operation, input });
}
