/**
 * Stable error codes of `@hoist/registry`. Callers match on the code; messages may change.
 *
 * These are errors of the JavaScript API (options, storage, the server's life cycle). What the
 * registry answers over HTTP uses the distribution spec's own codes (`BLOB_UNKNOWN`, …), see
 * {@link DistributionErrorCode}.
 */
export type RegistryErrorCode =
  /** An option given to `startRegistry`, `createRegistry` or a storage factory is invalid. */
  | "HOIST_REGISTRY_INVALID_OPTION"
  /** The HTTP server could not listen (port in use, permission denied); `cause` has details. */
  | "HOIST_REGISTRY_LISTEN_FAILED"
  /** Uploaded bytes do not hash to the digest the upload was committed as. */
  | "HOIST_REGISTRY_DIGEST_MISMATCH"
  /** A digest, repository name or tag handed to storage is malformed. */
  | "HOIST_REGISTRY_INVALID_ARGUMENT"
  /** No upload session with that id. */
  | "HOIST_REGISTRY_UPLOAD_UNKNOWN"
  /** No blob with that digest in storage. */
  | "HOIST_REGISTRY_BLOB_UNKNOWN"
  /** Reading or writing the storage directory failed; `cause` holds the system error. */
  | "HOIST_REGISTRY_STORAGE_FAILED";

/** Every code, for documentation and exhaustive tests. */
export const REGISTRY_ERROR_CODES: readonly RegistryErrorCode[] = Object.freeze([
  "HOIST_REGISTRY_INVALID_OPTION",
  "HOIST_REGISTRY_LISTEN_FAILED",
  "HOIST_REGISTRY_DIGEST_MISMATCH",
  "HOIST_REGISTRY_INVALID_ARGUMENT",
  "HOIST_REGISTRY_UPLOAD_UNKNOWN",
  "HOIST_REGISTRY_BLOB_UNKNOWN",
  "HOIST_REGISTRY_STORAGE_FAILED",
]);

export interface RegistryErrorOptions {
  code: RegistryErrorCode;
  /** What was being done, e.g. "start registry", "commit upload". */
  operation: string;
  /** The offending input, when it is short and safe to show. */
  input?: string;
  cause?: unknown;
}

// A registered symbol, so the brand survives two copies of this package in one process.
const BRAND = Symbol.for("@hoist/registry.error");

/**
 * The one base class of every error this package throws. Match on {@link RegistryError.code};
 * use {@link RegistryError.is} rather than `instanceof`, which fails across duplicate installs.
 */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly operation: string;
  readonly input: string | undefined;

  constructor(message: string, options: RegistryErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RegistryError";
    this.code = options.code;
    this.operation = options.operation;
    this.input = options.input;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any RegistryError, including one thrown by another installed copy of this package. */
  static is(value: unknown): value is RegistryError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as { [BRAND]?: unknown })[BRAND] === true
    );
  }
}

/** `JSON.stringify` for messages, shortened so a huge input cannot flood a log. */
export function quote(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  const short = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return JSON.stringify(short);
}
