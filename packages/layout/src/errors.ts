/**
 * Every error code of `@hoist/layout`. The code is the contract callers match on; messages may
 * change between versions. The package README explains each one.
 */
export const LAYOUT_ERROR_CODES = [
  /** The path does not exist, is not a directory, or has no `oci-layout` file. */
  "HOIST_LAYOUT_NOT_A_LAYOUT",
  /** `createLayout` was pointed at a non-empty directory that is not a layout. */
  "HOIST_LAYOUT_NOT_EMPTY",
  /** `oci-layout` is not a JSON object with a string `imageLayoutVersion`. */
  "HOIST_LAYOUT_INVALID_LAYOUT_FILE",
  /** `imageLayoutVersion` is not `1.0.0`, the only version the OCI spec defines. */
  "HOIST_LAYOUT_UNSUPPORTED_VERSION",
  /** `index.json` is missing. */
  "HOIST_LAYOUT_MISSING_INDEX",
  /** `index.json` is not a valid image index (bad JSON, a bad digest, too large, …). */
  "HOIST_LAYOUT_INVALID_INDEX",
  /** A digest is not `sha256:<64 hex>` / `sha512:<128 hex>`; no path was built from it. */
  "HOIST_LAYOUT_INVALID_DIGEST",
  /** `blobs/<alg>/<hex>` does not exist (the spec lets layouts omit blobs). */
  "HOIST_LAYOUT_BLOB_NOT_FOUND",
  /** No entry of the layout matches what was asked for. */
  "HOIST_LAYOUT_NOT_FOUND",
  /** Several entries match where exactly one was asked for. */
  "HOIST_LAYOUT_AMBIGUOUS",
  /** The entry found is an index where an image was asked for, or the reverse. */
  "HOIST_LAYOUT_WRONG_KIND",
  /** A write would leave the layout: `blobs` (or `blobs/<alg>`) is a link to elsewhere. */
  "HOIST_LAYOUT_UNSAFE_PATH",
  /** Garbage collection could not see the whole graph (a manifest is missing or corrupt). */
  "HOIST_LAYOUT_GC_INCOMPLETE",
  /** An option or argument is invalid. */
  "HOIST_LAYOUT_INVALID_ARGUMENT",
  /** Reading a file of the layout failed; `cause` holds the system error. */
  "HOIST_LAYOUT_READ_FAILED",
  /** Writing a file of the layout failed; `cause` holds the system error. */
  "HOIST_LAYOUT_WRITE_FAILED",
] as const;

/** One of {@link LAYOUT_ERROR_CODES}. */
export type LayoutErrorCode = (typeof LAYOUT_ERROR_CODES)[number];

const BRAND = Symbol.for("@hoist/layout.error");

export interface LayoutErrorOptions {
  code: LayoutErrorCode;
  /** What was being done, e.g. "open layout", "append image". */
  operation: string;
  /** The file or directory involved, when there is one. */
  path?: string;
  /** The digest involved, when there is one and it is valid. */
  digest?: string;
  cause?: unknown;
}

/**
 * The one base class of every error this package throws itself. Content that does not match its
 * digest or size fails with `@hoist/oci`'s `DigestMismatchError` / `SizeMismatchError`, the same
 * as from any other source. Use {@link LayoutError.is} rather than `instanceof`.
 */
export class LayoutError extends Error {
  readonly code: LayoutErrorCode;
  readonly operation: string;
  readonly path: string | undefined;
  readonly digest: string | undefined;

  constructor(message: string, options: LayoutErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LayoutError";
    this.code = options.code;
    this.operation = options.operation;
    this.path = options.path;
    this.digest = options.digest;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any error thrown by any copy of `@hoist/layout`. */
  static is(value: unknown): value is LayoutError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true
    );
  }
}

/** @internal The errno code of a Node system error, if it is one. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

/** @internal Quotes a value for a message: JSON escaping, long values shortened. */
export function quote(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

/**
 * @internal Wraps a system error from the file system into a LayoutError; errors that already
 * carry a meaning (hoist errors, aborts) pass through unchanged.
 */
export function ioError(
  error: unknown,
  code: "HOIST_LAYOUT_READ_FAILED" | "HOIST_LAYOUT_WRITE_FAILED",
  operation: string,
  path: string,
): unknown {
  const errno = errnoCode(error);
  // Only system errors (ENOENT, EACCES, …) are wrapped; hoist errors and aborts keep their type.
  if (errno === undefined || !/^E[A-Z0-9]+$/.test(errno)) return error;
  const verb = code === "HOIST_LAYOUT_READ_FAILED" ? "read" : "write";
  const hint =
    errno === "ENOSPC"
      ? "; free some disk space and try again"
      : errno === "EACCES" || errno === "EPERM"
        ? "; check the permissions of the layout directory"
        : "";
  return new LayoutError(`could not ${verb} ${quote(path)} (${errno})${hint}`, {
    code,
    operation,
    path,
    cause: error,
  });
}
