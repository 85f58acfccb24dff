/**
 * Query keys whose values are safe to show: they name what was asked for, never who asked.
 * Everything else (presigned-URL signatures, upload state, tokens) is replaced.
 */
const SAFE_QUERY_KEYS = new Set(["scope", "service", "mount", "from", "digest", "n", "last"]);

export const REDACTED = "REDACTED";

/**
 * A URL fit for error messages and logs: user info removed and every query value outside an
 * allow-list replaced by "REDACTED". Input that is not a URL is reduced to what precedes "?".
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : new URL(url.href);
  } catch {
    const text = String(url);
    const cut = text.search(/[?#]/);
    const base = (cut < 0 ? text : `${text.slice(0, cut)}?${REDACTED}`).replace(
      /\/\/[^/@]*@/,
      "//",
    );
    return base.length > 300 ? `${base.slice(0, 300)}…` : base;
  }
  parsed.username = "";
  parsed.password = "";
  parsed.hash = "";
  if (parsed.search) {
    const entries = [...parsed.searchParams.entries()].map(
      ([key, value]) => [key, SAFE_QUERY_KEYS.has(key) ? value : REDACTED] as const,
    );
    const params = new URLSearchParams();
    for (const [key, value] of entries) params.append(key, value);
    parsed.search = params.toString();
  }
  return parsed.href;
}

const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-registry-auth",
  "x-amz-security-token",
]);

/** Header values that must never be printed: credentials, tokens, cookies, signatures. */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    SECRET_HEADERS.has(lower) || /token|secret|signature|credential|api-?key|password/.test(lower)
  );
}

/** The value of a header as it may appear in a log line. */
export function redactHeaderValue(name: string, value: string): string {
  const lower = name.toLowerCase();
  if (isSecretHeader(lower)) {
    // Keep the scheme so a log still shows *how* a request was authenticated.
    const scheme = /^(basic|bearer)\s/i.exec(value)?.[1];
    return scheme ? `${scheme} <redacted>` : "<redacted>";
  }
  if (lower === "location" || lower === "content-location") return redactUrl(value);
  return value;
}

/** A copy of the headers with secret values redacted. */
export function redactHeaders(
  headers: Iterable<readonly [string, string]> | Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Symbol.iterator in headers ? headers : Object.entries(headers);
  for (const [name, value] of entries as Iterable<readonly [string, string]>) {
    out[name.toLowerCase()] = redactHeaderValue(name, value);
  }
  return out;
}
