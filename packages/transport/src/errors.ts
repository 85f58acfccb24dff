import type { RateLimit } from "./rate-limit.js";

/** Stable codes of every error this package throws. Callers match on these, never on messages. */
export const TRANSPORT_ERROR_CODES = [
  /** An option or argument was invalid (bad URL, conflicting options, out-of-range number). */
  "HOIST_TRANSPORT_INVALID_OPTIONS",
  /** The registry answered with a status the caller did not expect; see {@link RegistryError}. */
  "HOIST_TRANSPORT_REGISTRY_ERROR",
  /** The connection failed: refused, reset, closed early, DNS failure. */
  "HOIST_TRANSPORT_NETWORK",
  /** TLS failed: certificate not trusted, wrong host name, protocol mismatch. */
  "HOIST_TRANSPORT_TLS",
  /** Connecting, waiting for headers or waiting for body bytes took too long. */
  "HOIST_TRANSPORT_TIMEOUT",
  /** The caller's AbortSignal fired. */
  "HOIST_TRANSPORT_ABORTED",
  /** Neither https nor (where allowed) http reached the registry's /v2/ endpoint. */
  "HOIST_TRANSPORT_PING_FAILED",
  /** A WWW-Authenticate header could not be parsed, or was hostile (too long, too many parts). */
  "HOIST_TRANSPORT_BAD_CHALLENGE",
  /** A Link header could not be parsed. */
  "HOIST_TRANSPORT_BAD_LINK",
  /** A token realm was refused: not http(s), a downgrade to http, or an internal address. */
  "HOIST_TRANSPORT_UNSAFE_REALM",
  /** A redirect or absolute URL pointed somewhere the transport will not go. */
  "HOIST_TRANSPORT_UNSAFE_TARGET",
  /** More redirects than allowed. */
  "HOIST_TRANSPORT_TOO_MANY_REDIRECTS",
  /** The token endpoint refused to issue a token; see {@link TokenExchangeError}. */
  "HOIST_TRANSPORT_TOKEN_EXCHANGE",
  /** The token endpoint answered 2xx but without a usable token. */
  "HOIST_TRANSPORT_BAD_TOKEN_RESPONSE",
  /** The registry's challenge is not Bearer, so there is no token to exchange. */
  "HOIST_TRANSPORT_NOT_BEARER",
  /** The authenticator or keychain failed to produce a credential. */
  "HOIST_TRANSPORT_CREDENTIALS",
  /** A response body was larger than the limit set for it. */
  "HOIST_TRANSPORT_BODY_TOO_LARGE",
  /** A response body was not what was promised (for example not JSON). */
  "HOIST_TRANSPORT_BAD_RESPONSE",
  /** The transport was closed. */
  "HOIST_TRANSPORT_CLOSED",
] as const;

export type TransportErrorCode = (typeof TRANSPORT_ERROR_CODES)[number];

export interface TransportErrorOptions {
  code: TransportErrorCode;
  /** What was being done, for example "ping", "request", "token exchange". */
  operation: string;
  /** HTTP method, when the error belongs to a request. */
  method?: string | undefined;
  /** The URL involved, already redacted. */
  url?: string | undefined;
  /** The system or undici error code behind a network failure (ECONNRESET, UND_ERR_SOCKET). */
  systemCode?: string | undefined;
  /** How many attempts were made before giving up. */
  attempts?: number | undefined;
  cause?: unknown;
}

const TRANSPORT_BRAND = Symbol.for("hoist.transport.TransportError");
const REGISTRY_BRAND = Symbol.for("hoist.transport.RegistryError");

/** The base of every error @hoist/transport throws. Messages never contain credentials. */
export class TransportError extends Error {
  readonly code: TransportErrorCode;
  readonly operation: string;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly systemCode: string | undefined;
  readonly attempts: number | undefined;

  constructor(message: string, options: TransportErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TransportError";
    this.code = options.code;
    this.operation = options.operation;
    this.method = options.method;
    this.url = options.url;
    this.systemCode = options.systemCode;
    this.attempts = options.attempts;
    Object.defineProperty(this, TRANSPORT_BRAND, { value: true });
  }

  /** Brand check that works across duplicate installs of this package, where instanceof fails. */
  static is(value: unknown): value is TransportError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as Record<symbol, unknown>)[TRANSPORT_BRAND] === true
    );
  }
}

/** Error codes from the OCI distribution spec and the Docker registry API. */
export const KNOWN_REGISTRY_ERROR_CODES = [
  "BLOB_UNKNOWN",
  "BLOB_UPLOAD_INVALID",
  "BLOB_UPLOAD_UNKNOWN",
  "DIGEST_INVALID",
  "MANIFEST_BLOB_UNKNOWN",
  "MANIFEST_INVALID",
  "MANIFEST_UNKNOWN",
  "MANIFEST_UNVERIFIED",
  "NAME_INVALID",
  "NAME_UNKNOWN",
  "SIZE_INVALID",
  "TAG_INVALID",
  "UNAUTHORIZED",
  "DENIED",
  "UNSUPPORTED",
  "TOOMANYREQUESTS",
  "UNKNOWN",
  "UNAVAILABLE",
  "PAGINATION_NUMBER_INVALID",
  "RANGE_INVALID",
] as const;

export type KnownRegistryErrorCode = (typeof KNOWN_REGISTRY_ERROR_CODES)[number];

/**
 * A registry's error code. Registries invent their own, so any string is possible; the known
 * ones are listed for completion and exhaustive handling.
 */
export type RegistryErrorCode = KnownRegistryErrorCode | (string & {});

export function isKnownRegistryErrorCode(code: string): code is KnownRegistryErrorCode {
  return (KNOWN_REGISTRY_ERROR_CODES as readonly string[]).includes(code);
}

/** One entry of a registry's `{"errors": [...]}` body. */
export interface RegistryDiagnostic {
  readonly code: RegistryErrorCode;
  readonly message: string;
  readonly detail?: unknown;
}

export interface RegistryErrorOptions {
  operation: string;
  method: string;
  /** Redacted URL. */
  url: string;
  status: number;
  statusText: string;
  errors: readonly RegistryDiagnostic[];
  /** The body as text when it was not a structured error (already truncated). */
  body?: string | undefined;
  isTemporary: boolean;
  retryAfterMs?: number | undefined;
  rateLimit?: RateLimit | undefined;
  attempts?: number | undefined;
  elapsedMs?: number | undefined;
  /** Extra sentence appended to the message (what to do next). */
  hint?: string | undefined;
}

/**
 * The registry (or a server standing in for it) answered with an unexpected status. Carries the
 * parsed distribution-spec diagnostics so callers can branch on `errors[i].code`.
 */
export class RegistryError extends TransportError {
  readonly status: number;
  readonly statusText: string;
  override readonly method: string;
  override readonly url: string;
  readonly errors: readonly RegistryDiagnostic[];
  readonly body: string | undefined;
  /** True when the transport's retry policy treats this answer as transient. */
  readonly isTemporary: boolean;
  /** The server's Retry-After, in milliseconds, when it sent one. */
  readonly retryAfterMs: number | undefined;
  readonly rateLimit: RateLimit | undefined;

  constructor(options: RegistryErrorOptions) {
    super(registryErrorMessage(options), {
      code: "HOIST_TRANSPORT_REGISTRY_ERROR",
      operation: options.operation,
      method: options.method,
      url: options.url,
      attempts: options.attempts,
    });
    this.name = "RegistryError";
    this.status = options.status;
    this.statusText = options.statusText;
    this.method = options.method;
    this.url = options.url;
    this.errors = options.errors;
    this.body = options.body;
    this.isTemporary = options.isTemporary;
    this.retryAfterMs = options.retryAfterMs;
    this.rateLimit = options.rateLimit;
    Object.defineProperty(this, REGISTRY_BRAND, { value: true });
  }

  /** Whether any diagnostic carries this code. */
  hasCode(code: RegistryErrorCode): boolean {
    return this.errors.some((entry) => entry.code === code);
  }

  static override is(value: unknown): value is RegistryError {
    return (
      TransportError.is(value) &&
      (value as unknown as Record<symbol, unknown>)[REGISTRY_BRAND] === true
    );
  }
}

const MAX_DETAIL_CHARS = 500;

function formatDiagnostic(entry: RegistryDiagnostic): string {
  let text = entry.message ? `${entry.code}: ${entry.message}` : entry.code;
  if (entry.detail !== undefined && entry.detail !== null && entry.detail !== "") {
    let detail: string;
    try {
      detail = typeof entry.detail === "string" ? entry.detail : JSON.stringify(entry.detail);
    } catch {
      detail = String(entry.detail);
    }
    if (detail.length > MAX_DETAIL_CHARS) detail = `${detail.slice(0, MAX_DETAIL_CHARS)}…`;
    text += `; ${detail}`;
  }
  return text;
}

function registryErrorMessage(options: RegistryErrorOptions): string {
  let text: string;
  if (options.errors.length === 1 && options.errors[0]) {
    text = formatDiagnostic(options.errors[0]);
  } else if (options.errors.length > 1) {
    text = `multiple errors returned: ${options.errors.map(formatDiagnostic).join("; ")}`;
  } else {
    text = `unexpected status code ${options.status}${options.statusText ? ` ${options.statusText}` : ""}`;
    if (options.body) text += `: ${options.body}`;
    else if (options.method === "HEAD")
      text += " (HEAD responses have no body, use GET for details)";
  }
  let message = `${options.method} ${options.url}: ${text}`;
  if (options.attempts !== undefined && options.attempts > 1) {
    const seconds =
      options.elapsedMs === undefined ? "" : ` over ${(options.elapsedMs / 1000).toFixed(1)} s`;
    message += ` (gave up after ${options.attempts} attempts${seconds})`;
  }
  if (options.hint) message += `. ${options.hint}`;
  return message;
}

export interface TokenExchangeErrorOptions {
  /** Redacted realm URL. */
  realm: string;
  method: string;
  status: number;
  errors: readonly RegistryDiagnostic[];
  message: string;
  attempts?: number | undefined;
}

/** The token endpoint (the challenge's realm) refused to issue a token. */
export class TokenExchangeError extends TransportError {
  readonly status: number;
  readonly realm: string;
  readonly errors: readonly RegistryDiagnostic[];

  constructor(options: TokenExchangeErrorOptions) {
    super(options.message, {
      code: "HOIST_TRANSPORT_TOKEN_EXCHANGE",
      operation: "token exchange",
      method: options.method,
      url: options.realm,
      attempts: options.attempts,
    });
    this.name = "TokenExchangeError";
    this.status = options.status;
    this.realm = options.realm;
    this.errors = options.errors;
  }
}
