import type { Hash } from "./hash.js";

/**
 * Every error code of `@hoist/oci`. The code is the contract callers match on; messages may
 * change between versions. The package README explains each one.
 */
export const OCI_ERROR_CODES = [
  /** A digest string is not `algorithm:hex` with the exact lowercase hex length. */
  "HOIST_OCI_INVALID_DIGEST",
  /** A well-formed digest names an algorithm other than sha256 or sha512. */
  "HOIST_OCI_UNSUPPORTED_ALGORITHM",
  /** Bytes did not hash to the expected digest ({@link DigestMismatchError}). */
  "HOIST_OCI_DIGEST_MISMATCH",
  /** More or fewer bytes than expected ({@link SizeMismatchError}). */
  "HOIST_OCI_SIZE_MISMATCH",
  /** A document is not UTF-8 JSON ({@link InvalidDocumentError}). */
  "HOIST_OCI_INVALID_JSON",
  /** A JSON document has the wrong shape: a field is missing or of the wrong type. */
  "HOIST_OCI_INVALID_DOCUMENT",
  /** A document is larger than the size cap given to the parser. */
  "HOIST_OCI_DOCUMENT_TOO_LARGE",
  /** A Docker schema 1 manifest was given where only schema 2 / OCI is supported. */
  "HOIST_OCI_SCHEMA1_UNSUPPORTED",
  /** A platform string such as `linux/arm64/v8` could not be parsed. */
  "HOIST_OCI_INVALID_PLATFORM",
  /** An index child has another kind than asked for (an image where an index was wanted). */
  "HOIST_OCI_UNEXPECTED_MEDIA_TYPE",
  /** No layer, manifest or blob with that digest. */
  "HOIST_OCI_NOT_FOUND",
  /** A streamed layer's digest, diffID or size is asked for before its bytes were read. */
  "HOIST_OCI_NOT_COMPUTED",
  /** A one-shot stream layer was asked for its bytes a second time. */
  "HOIST_OCI_CONSUMED",
  /** The bytes use a compression this package cannot decode (zstd). */
  "HOIST_OCI_UNSUPPORTED_COMPRESSION",
  /** Compressed layer data is corrupt or truncated; `cause` holds zlib's error. */
  "HOIST_OCI_DECOMPRESS_FAILED",
  /** An option or argument is invalid (a negative layer count, a malformed media type, …). */
  "HOIST_OCI_INVALID_ARGUMENT",
  /** Reading a local file failed; `cause` holds the system error. */
  "HOIST_OCI_READ_FAILED",
  /** `validateImage`/`validateIndex` found content that disagrees with what describes it. */
  "HOIST_OCI_VALIDATION_FAILED",
] as const;

/** One of {@link OCI_ERROR_CODES}. */
export type OciErrorCode = (typeof OCI_ERROR_CODES)[number];

const BRAND = Symbol.for("@hoist/oci.error");

export interface OciErrorOptions {
  code: OciErrorCode;
  /** What was being done, e.g. "parse manifest", "verify blob". */
  operation: string;
  /** The offending input, when it is short and safe to show. */
  input?: string;
  cause?: unknown;
}

/**
 * The one base class of every error this package throws. Match on {@link OciError.code};
 * use {@link OciError.is} rather than `instanceof`, which fails across duplicate installs.
 */
export class OciError extends Error {
  readonly code: OciErrorCode;
  readonly operation: string;
  readonly input: string | undefined;

  constructor(message: string, options: OciErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "OciError";
    this.code = options.code;
    this.operation = options.operation;
    this.input = options.input;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any error thrown by any copy of `@hoist/oci`. */
  static is(value: unknown): value is OciError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true
    );
  }
}

/** Bytes hashed to another digest than the one they were fetched or stored under. */
export class DigestMismatchError extends OciError {
  readonly expected: Hash;
  readonly actual: Hash;
  /** How many bytes were hashed. */
  readonly size: number;

  constructor(options: {
    expected: Hash;
    actual: Hash;
    size: number;
    operation: string;
    subject?: string;
  }) {
    const subject = options.subject ?? "content";
    super(
      `${subject} hashed to ${options.actual} after ${options.size} bytes but ${options.expected} was expected; the source is corrupt or was tampered with, so its bytes were rejected`,
      { code: "HOIST_OCI_DIGEST_MISMATCH", operation: options.operation },
    );
    this.name = "DigestMismatchError";
    this.expected = options.expected;
    this.actual = options.actual;
    this.size = options.size;
  }

  static override is(value: unknown): value is DigestMismatchError {
    return OciError.is(value) && value.code === "HOIST_OCI_DIGEST_MISMATCH";
  }
}

/** More bytes than expected arrived (`excess`) or the stream ended early (`truncated`). */
export class SizeMismatchError extends OciError {
  readonly expected: number;
  /** Bytes seen: the full count when truncated, the count at the moment of failure when excess. */
  readonly actual: number;
  readonly kind: "excess" | "truncated";

  constructor(options: {
    expected: number;
    actual: number;
    kind: "excess" | "truncated";
    operation: string;
    subject?: string;
  }) {
    const subject = options.subject ?? "content";
    const what =
      options.kind === "excess"
        ? `${subject} is longer than the expected ${options.expected} bytes (at least ${options.actual} arrived)`
        : `${subject} ended after ${options.actual} bytes but ${options.expected} were expected`;
    super(`${what}; the source is corrupt, truncated or was tampered with`, {
      code: "HOIST_OCI_SIZE_MISMATCH",
      operation: options.operation,
    });
    this.name = "SizeMismatchError";
    this.expected = options.expected;
    this.actual = options.actual;
    this.kind = options.kind;
  }

  static override is(value: unknown): value is SizeMismatchError {
    return OciError.is(value) && value.code === "HOIST_OCI_SIZE_MISMATCH";
  }
}

/** Which kind of JSON document was being parsed. */
export type DocumentKind = "manifest" | "index" | "config" | "descriptor";

/** One thing wrong with a document, at a field path such as `layers[2].digest`. */
export interface DocumentProblem {
  /** `layers[2].digest`; empty for the document itself. */
  path: string;
  message: string;
}

/** A manifest, index, config or descriptor that could not be accepted. */
export class InvalidDocumentError extends OciError {
  readonly document: DocumentKind;
  /** The first problem's field path (`layers[2].digest`), empty for the whole document. */
  readonly path: string;
  readonly problems: readonly DocumentProblem[];

  constructor(
    message: string,
    options: {
      code:
        | "HOIST_OCI_INVALID_JSON"
        | "HOIST_OCI_INVALID_DOCUMENT"
        | "HOIST_OCI_DOCUMENT_TOO_LARGE"
        | "HOIST_OCI_SCHEMA1_UNSUPPORTED";
      document: DocumentKind;
      problems?: readonly DocumentProblem[];
      cause?: unknown;
    },
  ) {
    super(message, {
      code: options.code,
      operation: `parse ${options.document}`,
      cause: options.cause,
    });
    this.name = "InvalidDocumentError";
    this.document = options.document;
    this.problems = options.problems ?? [];
    this.path = this.problems[0]?.path ?? "";
  }

  static override is(value: unknown): value is InvalidDocumentError {
    return (
      OciError.is(value) && value instanceof Error && "document" in value && "problems" in value
    );
  }
}

/** @internal */
export function notFound(message: string, operation: string): OciError {
  return new OciError(message, { code: "HOIST_OCI_NOT_FOUND", operation });
}
