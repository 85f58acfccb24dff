import { readFileSync } from "node:fs";

function readVersion(): string {
  try {
    // package.json sits one level above both src/ and dist/, and is always published.
    const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === "string" ? version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** The version of @hoist/transport, as sent in the User-Agent header. */
export const VERSION: string = readVersion();

const UA_SUFFIX = /^[\x20-\x7e]{1,200}$/;

/** "hoist/<version>", followed by the caller's own product token when given. */
export function userAgent(suffix?: string): string {
  const base = `hoist/${VERSION}`;
  if (suffix === undefined || suffix === "") return base;
  return `${base} ${suffix}`;
}

export function isValidUserAgentSuffix(suffix: string): boolean {
  return UA_SUFFIX.test(suffix);
}
