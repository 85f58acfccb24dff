// Validation of each part of a reference. Every check is a single pass over char codes with
// lookup tables: no regular expressions, so no input can make parsing slow.
// Each function returns a human-readable reason, or undefined when the part is valid.

import { isIPv6 } from "./ip.js";
import { codePointLength, quote, quoteCharAt } from "./text.js";

function table(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS = "0123456789";

// go-containerregistry's sets: repositories are lowercase with "_-./" and no per-component
// grammar; tags add uppercase; registry hosts take what Go's url.Parse keeps as an
// RFC 3986 authority (unreserved and sub-delims, plus ":[]<>\"").
const REPOSITORY_CHARS = table(`${LOWER}${DIGITS}_-./`);
const TAG_CHARS = table(`${LOWER}${UPPER}${DIGITS}_-.`);
const HOST_CHARS = table(`${LOWER}${UPPER}${DIGITS}-._~!$&'()*+,;=:[]<>"`);

export const REPOSITORY_MAX = 255;
export const TAG_MAX = 128;

/** Index of the first character of `s` not in `allowed`, or -1. */
function firstInvalid(s: string, allowed: Uint8Array): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || allowed[c] !== 1) return i;
  }
  return -1;
}

function lengthProblem(what: string, value: string, max: number): string | undefined {
  // Only count code points when .length is out of range; for the valid ASCII sets they agree.
  if (value.length >= 1 && value.length <= max) return undefined;
  const n = codePointLength(value);
  if (n >= 1 && n <= max) return undefined;
  if (n === 0) return `the ${what} is empty`;
  return `the ${what} ${quote(value)} is ${n} characters long; it must be 1 to ${max} characters`;
}

export function repositoryProblem(path: string): string | undefined {
  const length = lengthProblem("repository name", path, REPOSITORY_MAX);
  if (length !== undefined) return length;
  const bad = firstInvalid(path, REPOSITORY_CHARS);
  if (bad < 0) return undefined;
  const c = path.charCodeAt(bad);
  let hint = "";
  if (c >= 0x41 && c <= 0x5a) hint = "; repository names are lowercase";
  else if (c === 0x3a) hint = '; a ":" only belongs before a tag or a port';
  else if (c === 0x40) hint = '; an "@" only belongs before a digest';
  return (
    `the repository name ${quote(path)} contains ${quoteCharAt(path, bad)}; ` +
    `it may only contain lowercase letters, digits and "_", "-", ".", "/"${hint}`
  );
}

export function tagProblem(tag: string): string | undefined {
  const length = lengthProblem("tag", tag, TAG_MAX);
  if (length !== undefined) return length;
  const bad = firstInvalid(tag, TAG_CHARS);
  if (bad < 0) return undefined;
  return (
    `the tag ${quote(tag)} contains ${quoteCharAt(tag, bad)}; ` +
    `a tag may only contain letters, digits and "_", ".", "-"`
  );
}

function isDigits(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * go-containerregistry accepts a registry exactly when Go's url.Parse("//" + host) gives
 * the same string back as its Host: allowed characters only, an optional ":port" of digits
 * (possibly empty), and "[...]" only around an IPv6 address. The empty string is valid here;
 * callers replace it with the default registry.
 */
export function registryProblem(host: string): string | undefined {
  const bad = firstInvalid(host, HOST_CHARS);
  if (bad >= 0) {
    const c = host.charCodeAt(bad);
    if (c >= 128) {
      return (
        `the registry ${quote(host)} contains the non-ASCII character ${quoteCharAt(host, bad)}; ` +
        "write internationalised host names in their punycode (xn--) form"
      );
    }
    return (
      `the registry ${quote(host)} contains ${quoteCharAt(host, bad)}; ` +
      'a registry is a host name or IP address with an optional ":port"'
    );
  }
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const close = host.lastIndexOf("]");
    if (close < 0) return `the registry ${quote(host)} opens "[" without a closing "]"`;
    const rest = host.slice(close + 1);
    if (rest !== "" && (rest.charCodeAt(0) !== 0x3a || !isDigits(rest, 1))) {
      return `the registry ${quote(host)} has ${quote(rest)} after "]"; only ":port" may follow`;
    }
    const inner = host.slice(1, close);
    if (!isIPv6(inner)) {
      return `the registry ${quote(host)} has ${quote(inner)} in brackets; "[...]" may only enclose an IPv6 address`;
    }
    return undefined;
  }
  const colon = host.lastIndexOf(":");
  if (colon >= 0 && !isDigits(host, colon + 1)) {
    return `the port ${quote(host.slice(colon + 1))} of the registry ${quote(host)} is not a number`;
  }
  return undefined;
}

export type DigestAlgorithm = "sha256" | "sha512";

const HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 };

/** The algorithm of a digest that `digestProblem` accepted. */
export function digestAlgorithm(digest: string): DigestAlgorithm {
  return digest.charCodeAt(3) === 0x32 /* "2" of sha256 */ ? "sha256" : "sha512";
}

export function digestProblem(digest: string): string | undefined {
  if (digest === "") {
    return 'nothing follows "@"; a digest looks like "sha256:" followed by 64 hex characters';
  }
  let algorithm: DigestAlgorithm;
  if (digest.startsWith("sha256:")) algorithm = "sha256";
  else if (digest.startsWith("sha512:")) algorithm = "sha512";
  else {
    const colon = digest.indexOf(":");
    if (colon < 0) {
      return `the digest ${quote(digest)} has no algorithm; it should look like "sha256:" followed by 64 hex characters`;
    }
    return (
      `the digest algorithm ${quote(digest.slice(0, colon))} is not supported; ` +
      'use "sha256" (or "sha512")'
    );
  }
  const expected = HEX_LENGTH[algorithm];
  const hexLength = digest.length - algorithm.length - 1;
  if (hexLength !== expected) {
    return `the ${algorithm} digest ${quote(digest)} has ${hexLength} hex characters; it needs exactly ${expected}`;
  }
  for (let i = algorithm.length + 1; i < digest.length; i++) {
    const c = digest.charCodeAt(i);
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) continue;
    const upper = c >= 0x41 && c <= 0x46 ? "; hex digits must be lowercase" : "";
    return `the digest ${quote(digest)} contains ${quoteCharAt(digest, i)}; the part after "${algorithm}:" must be hex (0-9, a-f)${upper}`;
  }
  return undefined;
}
