import type { RegistryDiagnostic } from "@hoist/transport";

/**
 * Every error code of `@hoist/remote`. The code is the contract callers match on; messages may
 * change. Content that fails verification (a blob whose bytes do not hash to its digest) is
 * reported by `@hoist/oci`'s `DigestMismatchError` / `SizeMismatchError` as they are.
 */
export const REMOTE_ERROR_CODES = [
  /** An option is invalid or options conflict (`keychain` and `auth` together, `jobs: 0`). */
  "HOIST_REMOTE_INVALID_OPTIONS",
  /** An argument is invalid: a reference that does not parse, a digest where a tag is needed. */
  "HOIST_REMOTE_INVALID_ARGUMENT",
  /** The registry has no such manifest, blob or repository (404). */
  "HOIST_REMOTE_NOT_FOUND",
  /** The registry wants credentials, or refused the ones given (401). */
  "HOIST_REMOTE_UNAUTHORIZED",
  /** The credentials lack permission for this operation (403). */
  "HOIST_REMOTE_DENIED",
  /** The registry does not support the operation (deletes disabled, no referrers API). */
  "HOIST_REMOTE_UNSUPPORTED",
  /** Any other unexpected registry answer; `status` and `registryErrors` say what it was. */
  "HOIST_REMOTE_REGISTRY_ERROR",
  /** Connection, TLS or timeout failure, after the transport's retries. */
  "HOIST_REMOTE_NETWORK",
  /** The caller's AbortSignal fired. */
  "HOIST_REMOTE_ABORTED",
  /** A manifest is larger than the cap (`maxManifestBytes`). */
  "HOIST_REMOTE_MANIFEST_TOO_LARGE",
  /** A manifest's bytes do not hash to the digest asked for or announced by the registry. */
  "HOIST_REMOTE_DIGEST_MISMATCH",
  /** A manifest of another kind than asked for (`index()` on an image, `image()` on schema 1). */
  "HOIST_REMOTE_UNEXPECTED_MEDIA_TYPE",
  /** No child of an index matches the platform asked for. */
  "HOIST_REMOTE_NO_MATCHING_PLATFORM",
  /** Pagination went wrong: a `Link` loop, a link to another host, a malformed `Link`. */
  "HOIST_REMOTE_PAGINATION",
  /** A registry answer is malformed: no upload `Location`, bad JSON, a bad `Content-Range`. */
  "HOIST_REMOTE_BAD_RESPONSE",
  /** A blob upload could not be completed after recovering what could be recovered. */
  "HOIST_REMOTE_UPLOAD_FAILED",
  /** The Puller or Pusher was closed. */
  "HOIST_REMOTE_CLOSED",
] as const;

/** One of {@link REMOTE_ERROR_CODES}. */
export type RemoteErrorCode = (typeof REMOTE_ERROR_CODES)[number];

export interface RemoteErrorOptions {
  code: RemoteErrorCode;
  /** What was being done: "get manifest", "upload blob", "list tags", ... */
  operation: string;
  /** The reference, repository or registry involved, as a string. */
  reference?: string | undefined;
  /** The HTTP status, when a registry answer caused the error. */
  status?: number | undefined;
  /** The registry's `{"errors": [...]}` diagnostics, when it sent any. */
  registryErrors?: readonly RegistryDiagnostic[] | undefined;
  cause?: unknown;
}

const BRAND = Symbol.for("@hoist/remote.error");

/**
 * The base class of every error `@hoist/remote` throws (besides `@hoist/oci`'s verification
 * errors). Match on {@link RemoteError.code}; use {@link RemoteError.is} rather than
 * `instanceof`, which fails across duplicate installs. Messages never carry credentials.
 */
export class RemoteError extends Error {
  readonly code: RemoteErrorCode;
  readonly operation: string;
  readonly reference: string | undefined;
  readonly status: number | undefined;
  readonly registryErrors: readonly RegistryDiagnostic[];

  constructor(message: string, options: RemoteErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RemoteError";
    this.code = options.code;
    this.operation = options.operation;
    this.reference = options.reference;
    this.status = options.status;
    this.registryErrors = options.registryErrors ?? [];
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any error thrown by any copy of `@hoist/remote`. */
  static is(value: unknown): value is RemoteError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true
    );
  }
}

/** Shorthand for the most common error shape. */
export function remoteError(
  code: RemoteErrorCode,
  message: string,
  options: Omit<RemoteErrorOptions, "code" | "message">,
): RemoteError {
  return new RemoteError(message, { ...options, code });
}
