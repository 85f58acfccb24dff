import { TransportError } from "./errors.js";
import type { HeaderGetter } from "./rate-limit.js";
import { hasControlChar, isControlChar } from "./text.js";

/** One entry of a Link header (RFC 8288), as registries use it for pagination. */
export interface Link {
  /** The URI reference between `<` and `>`, not yet resolved. */
  readonly target: string;
  /** The `rel` values, lower-cased (`rel="next"` gives ["next"]). */
  readonly rel: readonly string[];
  /** All parameters with lower-cased names. */
  readonly params: Readonly<Record<string, string>>;
}

const MAX_LINK_HEADER_CHARS = 16 * 1024;
const MAX_LINKS = 64;
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

function fail(input: string, at: number, what: string): never {
  const near = input.slice(Math.max(0, at - 20), at + 20).replace(/[^\x20-\x7e]/g, "?");
  throw new TransportError(
    `Malformed Link header: ${what} at offset ${at} near "${near}". ` +
      "The registry's pagination header cannot be followed; check the registry.",
    { code: "HOIST_TRANSPORT_BAD_LINK", operation: "parse link" },
  );
}

/**
 * Parses a Link header value. Throws a {@link TransportError} with code HOIST_TRANSPORT_BAD_LINK
 * on malformed or oversized input, and nothing else.
 */
export function parseLinkHeader(value: string): Link[] {
  // Describe a non-string by its type: String() itself can throw on a hostile object.
  if (typeof value !== "string") fail(value === null ? "null" : typeof value, 0, "not a string");
  if (value.length > MAX_LINK_HEADER_CHARS) {
    fail(value.slice(0, 40), 0, `header longer than ${MAX_LINK_HEADER_CHARS} characters`);
  }
  const links: Link[] = [];
  let pos = 0;
  const skipSpace = () => {
    while (value[pos] === " " || value[pos] === "\t") pos++;
  };
  const readToken = () => {
    const start = pos;
    while (pos < value.length && TCHAR.test(value.charAt(pos))) pos++;
    return value.slice(start, pos);
  };
  const readQuoted = () => {
    const start = pos;
    pos++;
    let out = "";
    for (;;) {
      if (pos >= value.length) fail(value, start, "unterminated quoted string");
      const char = value.charAt(pos);
      if (char === '"') {
        pos++;
        return out;
      }
      if (char === "\\") {
        pos++;
        if (pos >= value.length) fail(value, start, "unterminated quoted string");
      } else if (isControlChar(char, { allowTab: true })) {
        fail(value, pos, "control character in quoted string");
      }
      out += value.charAt(pos);
      pos++;
    }
  };

  for (;;) {
    while (value[pos] === " " || value[pos] === "\t" || value[pos] === ",") pos++;
    if (pos >= value.length) break;
    if (value[pos] !== "<") fail(value, pos, 'expected "<"');
    const close = value.indexOf(">", pos + 1);
    if (close < 0) fail(value, pos, 'missing ">"');
    const target = value.slice(pos + 1, close).trim();
    if (/[\s<>"]/.test(target) || hasControlChar(target)) {
      fail(value, pos + 1, "invalid character in URI");
    }
    pos = close + 1;
    const params: Record<string, string> = Object.create(null);
    for (;;) {
      skipSpace();
      if (pos >= value.length || value[pos] === ",") break;
      if (value[pos] !== ";") fail(value, pos, 'expected ";" or ","');
      pos++;
      skipSpace();
      const nameStart = pos;
      const name = readToken().toLowerCase();
      if (!name) fail(value, nameStart, "expected a parameter name");
      skipSpace();
      let paramValue = "";
      if (value[pos] === "=") {
        pos++;
        skipSpace();
        if (value[pos] === '"') paramValue = readQuoted();
        else {
          const valueStart = pos;
          paramValue = readToken();
          if (!paramValue) fail(value, valueStart, "expected a parameter value");
        }
      }
      if (!(name in params)) params[name] = paramValue;
    }
    const rel = (params.rel ?? "")
      .toLowerCase()
      .split(/[ \t]+/)
      .filter(Boolean);
    links.push({ target, rel, params });
    if (links.length > MAX_LINKS) fail(value, pos, `more than ${MAX_LINKS} links`);
  }
  return links;
}

/**
 * The absolute URL of the `rel="next"` link of a paginated response, or undefined on the last
 * page. Relative targets resolve against the URL the response came from.
 */
export function nextLink(headers: HeaderGetter, base: string | URL): URL | undefined {
  const header = headers.get("link");
  if (!header) return undefined;
  const link = parseLinkHeader(header).find((entry) => entry.rel.includes("next"));
  if (!link) return undefined;
  try {
    return new URL(link.target, base);
  } catch (cause) {
    throw new TransportError(`Link header target "${link.target.slice(0, 200)}" is not a URL.`, {
      code: "HOIST_TRANSPORT_BAD_LINK",
      operation: "parse link",
      cause,
    });
  }
}
