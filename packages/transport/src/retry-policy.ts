import { TransportError } from "./errors.js";

/** When and how often a failed request is tried again. */
export interface RetryPolicy {
  /** Attempts in total, the first included. 1 disables retries. */
  readonly attempts: number;
  /** Delay before the first retry. */
  readonly initialDelayMs: number;
  /** Each further retry waits this many times longer. */
  readonly factor: number;
  /** No backoff delay exceeds this. */
  readonly maxDelayMs: number;
  /** Relative spread around each delay: 0.2 means ±20%, so parallel clients do not retry in step. */
  readonly jitter: number;
  /** Statuses worth retrying. */
  readonly statuses: readonly number[];
  /**
   * Longest Retry-After the transport waits for. A server asking for longer gets its answer
   * surfaced at once (as a RegistryError with `retryAfterMs`) instead of a stalled caller.
   */
  readonly maxRetryAfterMs: number;
  /** Source of randomness for the jitter, in [0, 1). */
  readonly random: () => number;
}

export type RetryPolicyOptions = Partial<RetryPolicy>;

/** Statuses DESIGN.md names as transient: timeouts, rate limits and gateway failures. */
export const DEFAULT_RETRY_STATUSES: readonly number[] = Object.freeze([
  408, 429, 500, 502, 503, 504,
]);

export const defaultRetryPolicy: RetryPolicy = Object.freeze({
  attempts: 4,
  initialDelayMs: 200,
  factor: 3,
  maxDelayMs: 10_000,
  jitter: 0.2,
  statuses: DEFAULT_RETRY_STATUSES,
  maxRetryAfterMs: 60_000,
  random: Math.random,
});

/** Diagnostic codes that mean "try again" whatever the status (as go-containerregistry reads them). */
export const TEMPORARY_REGISTRY_CODES: ReadonlySet<string> = new Set([
  "BLOB_UPLOAD_INVALID",
  "TOOMANYREQUESTS",
  "UNKNOWN",
  "UNAVAILABLE",
]);

function invalid(field: string, value: unknown, rule: string): never {
  throw new TransportError(
    `Invalid retry policy: ${field} is ${JSON.stringify(value)}, but it must be ${rule}.`,
    { code: "HOIST_TRANSPORT_INVALID_OPTIONS", operation: "create transport" },
  );
}

function checkNumber(field: string, value: number, min: number, max: number, integer = false) {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    invalid(field, value, `a number from ${min} to ${max}`);
  }
  if (integer && !Number.isInteger(value)) invalid(field, value, "a whole number");
}

/** Fills in defaults and validates. `false` gives a policy that never retries. */
export function resolveRetryPolicy(options?: RetryPolicyOptions | false): RetryPolicy {
  if (options === false) return Object.freeze({ ...defaultRetryPolicy, attempts: 1 });
  const policy = { ...defaultRetryPolicy, ...(options ?? {}) };
  checkNumber("attempts", policy.attempts, 1, 20, true);
  checkNumber("initialDelayMs", policy.initialDelayMs, 0, 600_000);
  checkNumber("factor", policy.factor, 1, 100);
  checkNumber("maxDelayMs", policy.maxDelayMs, 0, 3_600_000);
  checkNumber("jitter", policy.jitter, 0, 1);
  checkNumber("maxRetryAfterMs", policy.maxRetryAfterMs, 0, 24 * 3_600_000);
  if (
    !Array.isArray(policy.statuses) ||
    !policy.statuses.every((s) => Number.isInteger(s) && s >= 100 && s <= 599)
  ) {
    invalid("statuses", policy.statuses, "a list of HTTP status codes");
  }
  if (typeof policy.random !== "function") invalid("random", typeof policy.random, "a function");
  return Object.freeze({ ...policy, statuses: Object.freeze([...policy.statuses]) });
}

/** Delay before retry number `retry` (1 for the first retry), jitter applied. */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (retry - 1));
  const spread = policy.jitter * (2 * policy.random() - 1);
  return Math.max(0, Math.round(base * (1 + spread)));
}

const MAX_RETRY_AFTER_CHARS = 64;

/**
 * Retry-After as milliseconds from `now`: delta-seconds ("120") or an HTTP date. Dates in the
 * past give 0. Unreadable values give undefined (and the ordinary backoff applies).
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value || value.length > MAX_RETRY_AFTER_CHARS) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : undefined;
  }
  // HTTP dates always name a weekday and GMT; anything else is not worth guessing at.
  if (!/^[A-Za-z]{3},? .*GMT$/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Methods HTTP defines as idempotent: repeating them does no more than sending them once. */
export function isIdempotentMethod(method: string): boolean {
  return ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"].includes(method.toUpperCase());
}

/** Network failures worth another attempt. Refused connections are not: nothing is listening. */
const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNABORTED",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
]);

export function isRetryableNetworkCode(code: string | undefined): boolean {
  return code !== undefined && RETRYABLE_NETWORK_CODES.has(code);
}
