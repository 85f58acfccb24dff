/**
 * A registry's advertised request quota, as Docker Hub sends it
 * (`RateLimit-Limit: 100;w=21600`, `RateLimit-Remaining: 76;w=21600`,
 * `Docker-RateLimit-Source: 203.0.113.7`).
 */
export interface RateLimit {
  /** Requests allowed per window. */
  readonly limit?: number;
  /** Requests left in the current window. */
  readonly remaining?: number;
  /** Length of the window in seconds (the `w=` parameter). */
  readonly windowSeconds?: number;
  /** Seconds until the quota resets, when the registry says (`RateLimit-Reset`). */
  readonly resetSeconds?: number;
  /** What the quota is counted against (Docker Hub: an IP address or an account id). */
  readonly source?: string;
}

/** Header lookup, satisfied by the web `Headers` class. */
export interface HeaderGetter {
  get(name: string): string | null;
}

const MAX_VALUE_CHARS = 256;

interface Quota {
  value: number;
  window?: number;
}

/**
 * Parses "100;w=21600" and the draft's list form "100, 100;w=21600": the count comes from the
 * first element, the window from the first element that names one.
 */
function parseQuota(raw: string | null): Quota | undefined {
  if (raw === null || raw.length > MAX_VALUE_CHARS) return undefined;
  const elements = raw.split(",");
  const count = elements[0]?.split(";")[0];
  if (!count || !/^\s*\d{1,15}\s*$/.test(count)) return undefined;
  const quota: Quota = { value: Number(count.trim()) };
  for (const element of elements) {
    for (const param of element.split(";").slice(1)) {
      const match = /^\s*w\s*=\s*(\d{1,15})\s*$/i.exec(param);
      if (match?.[1] && quota.window === undefined) quota.window = Number(match[1]);
    }
  }
  return quota;
}

/** Reads RateLimit-* headers. Returns undefined when the response carries none. */
export function parseRateLimit(headers: HeaderGetter): RateLimit | undefined {
  const limit = parseQuota(headers.get("ratelimit-limit"));
  const remaining = parseQuota(headers.get("ratelimit-remaining"));
  const reset = parseQuota(headers.get("ratelimit-reset"));
  const sourceHeader = headers.get("docker-ratelimit-source");
  if (!limit && !remaining && !reset) return undefined;
  const windowSeconds = limit?.window ?? remaining?.window;
  const source =
    sourceHeader && sourceHeader.length <= MAX_VALUE_CHARS ? sourceHeader.trim() : undefined;
  return {
    ...(limit ? { limit: limit.value } : {}),
    ...(remaining ? { remaining: remaining.value } : {}),
    ...(windowSeconds !== undefined ? { windowSeconds } : {}),
    ...(reset ? { resetSeconds: reset.value } : {}),
    ...(source ? { source } : {}),
  };
}
