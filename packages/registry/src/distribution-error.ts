/**
 * The error codes a registry answers with, from the OCI distribution spec (code-1 … code-14)
 * plus the two distribution itself uses for upload ranges and page sizes.
 */
export type DistributionErrorCode =
  | "BLOB_UNKNOWN"
  | "BLOB_UPLOAD_INVALID"
  | "BLOB_UPLOAD_UNKNOWN"
  | "DIGEST_INVALID"
  | "MANIFEST_BLOB_UNKNOWN"
  | "MANIFEST_INVALID"
  | "MANIFEST_UNKNOWN"
  | "NAME_INVALID"
  | "NAME_UNKNOWN"
  | "SIZE_INVALID"
  | "UNAUTHORIZED"
  | "DENIED"
  | "UNSUPPORTED"
  | "TOOMANYREQUESTS"
  | "RANGE_INVALID"
  | "PAGINATION_NUMBER_INVALID"
  | "UNKNOWN";

/** The spec's short description of each code, used when nothing more specific is known. */
export const DISTRIBUTION_ERROR_MESSAGES: Readonly<Record<DistributionErrorCode, string>> = {
  BLOB_UNKNOWN: "blob unknown to registry",
  BLOB_UPLOAD_INVALID: "blob upload invalid",
  BLOB_UPLOAD_UNKNOWN: "blob upload unknown to registry",
  DIGEST_INVALID: "provided digest did not match uploaded content",
  MANIFEST_BLOB_UNKNOWN: "manifest references a manifest or blob unknown to registry",
  MANIFEST_INVALID: "manifest invalid",
  MANIFEST_UNKNOWN: "manifest unknown to registry",
  NAME_INVALID: "invalid repository name",
  NAME_UNKNOWN: "repository name not known to registry",
  SIZE_INVALID: "provided length did not match content length",
  UNAUTHORIZED: "authentication required",
  DENIED: "requested access to the resource is denied",
  UNSUPPORTED: "the operation is unsupported",
  TOOMANYREQUESTS: "too many requests",
  RANGE_INVALID: "invalid content range",
  PAGINATION_NUMBER_INVALID: "invalid number of results requested",
  UNKNOWN: "unknown error",
};

/** One entry of the `errors` array of an error body. */
export interface DistributionErrorEntry {
  code: DistributionErrorCode | (string & {});
  message: string;
  detail?: unknown;
}

/**
 * An error answer of the registry: an HTTP status and one or more spec error entries. Thrown
 * inside request handling and turned into `{"errors":[…]}` by the response writer.
 */
export class DistributionError extends Error {
  readonly status: number;
  readonly errors: readonly DistributionErrorEntry[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    errors: DistributionErrorEntry | readonly DistributionErrorEntry[],
    headers: Record<string, string> = {},
  ) {
    const list = Array.isArray(errors)
      ? (errors as readonly DistributionErrorEntry[])
      : [errors as DistributionErrorEntry];
    super(list.map((e) => `${e.code}: ${e.message}`).join("; "));
    this.name = "DistributionError";
    this.status = status;
    this.errors = list;
    this.headers = headers;
  }
}

/** Shorthand for the common one-entry error. */
export function apiError(
  status: number,
  code: DistributionErrorCode,
  message?: string,
  detail?: unknown,
  headers?: Record<string, string>,
): DistributionError {
  const entry: DistributionErrorEntry = {
    code,
    message: message ?? DISTRIBUTION_ERROR_MESSAGES[code],
  };
  if (detail !== undefined) entry.detail = detail;
  return new DistributionError(status, entry, headers);
}

/** The JSON body of an error answer, as the spec shapes it. */
export function errorBody(errors: readonly DistributionErrorEntry[]): string {
  return JSON.stringify({ errors });
}

/** The code a bare status stands for, when a fault rule gives only a status. */
export function codeForStatus(status: number): DistributionErrorCode {
  switch (status) {
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "DENIED";
    case 404:
      return "NAME_UNKNOWN";
    case 405:
      return "UNSUPPORTED";
    case 413:
      return "SIZE_INVALID";
    case 416:
      return "RANGE_INVALID";
    case 429:
      return "TOOMANYREQUESTS";
    default:
      return "UNKNOWN";
  }
}
