// Which URL scheme a registry is spoken to with, by go-containerregistry's heuristics:
// plain http only for registries declared insecure and for hosts that are local by
// construction (loopback, *.localhost, RFC 1918 private networks).

import { parseIPv4 } from "./ip.js";

export type Scheme = "http" | "https";

/** True when s[from..] is 1 to 5 decimal digits (a port as the heuristics accept it). */
function isShortPort(s: string, from: number): boolean {
  const n = s.length - from;
  if (n < 1 || n > 5) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** `host` is exactly `base` or `base:<1-5 digits>`. */
function isHostWithOptionalPort(host: string, base: string): boolean {
  if (!host.startsWith(base)) return false;
  if (host.length === base.length) return true;
  return host.charCodeAt(base.length) === 0x3a && isShortPort(host, base.length + 1);
}

function isRFC1918(host: string): boolean {
  const colon = host.indexOf(":");
  const octets = parseIPv4(host, 0, colon < 0 ? host.length : colon);
  if (octets === undefined) return false;
  const [a, b] = octets as [number, number, number, number];
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

function isDotLocalhost(host: string): boolean {
  if (host.endsWith(".localhost")) return true;
  const colon = host.lastIndexOf(":");
  return colon > 0 && isShortPort(host, colon + 1) && host.slice(0, colon).endsWith(".localhost");
}

export function schemeFor(host: string, insecure: boolean): Scheme {
  if (insecure) return "http";
  if (isRFC1918(host)) return "http";
  // A bare "localhost" stays https, as in go-containerregistry: only "localhost:<port>"
  // is assumed to be a local plain-http registry.
  if (host.startsWith("localhost:")) return "http";
  if (isDotLocalhost(host)) return "http";
  if (isHostWithOptionalPort(host, "127.0.0.1")) return "http";
  if (host === "::1" || isHostWithOptionalPort(host, "[::1]")) return "http";
  return "https";
}
