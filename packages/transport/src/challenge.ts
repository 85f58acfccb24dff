import { TransportError } from "./errors.js";
import { isControlChar } from "./text.js";

/** One authentication challenge from a WWW-Authenticate header (RFC 7235). */
export interface Challenge {
  /** The auth scheme, lower-cased: "bearer", "basic", ... */
  readonly scheme: string;
  /** Parameters with lower-cased names; values unquoted and unescaped. */
  readonly params: Readonly<Record<string, string>>;
  /** The token68 form (`Negotiate abc==`), when the challenge used it instead of parameters. */
  readonly token68?: string;
}

/** A whole header above this size is refused: no registry needs more, a hostile one might. */
export const MAX_CHALLENGE_HEADER_CHARS = 16 * 1024;
const MAX_CHALLENGES = 32;
const MAX_PARAMS = 64;

// RFC 9110 tchar.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /([-._~+/0-9A-Za-z]+=*)[ \t]*(?:,|$)/y;
// Unquoted values: registries send realms unquoted now and then, so anything but a separator.
const isLooseValueChar = (char: string) => !/[\s,;"\\]/.test(char) && !isControlChar(char);
const isTokenChar = (char: string) => TCHAR.test(char);

function excerpt(input: string, at: number): string {
  const start = Math.max(0, at - 20);
  const text = input.slice(start, at + 20).replace(/[^\x20-\x7e]/g, "?");
  return `${start > 0 ? "…" : ""}${text}${at + 20 < input.length ? "…" : ""}`;
}

function fail(input: string, at: number, what: string): never {
  throw new TransportError(
    `Malformed WWW-Authenticate header: ${what} at offset ${at} near "${excerpt(input, at)}". ` +
      "The registry sent a challenge hoist cannot read; check the registry or proxy in front of it.",
    { code: "HOIST_TRANSPORT_BAD_CHALLENGE", operation: "parse challenge" },
  );
}

class Cursor {
  pos = 0;
  constructor(readonly input: string) {}
  get done(): boolean {
    return this.pos >= this.input.length;
  }
  peek(): string {
    return this.input.charAt(this.pos);
  }
  skipSpace(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }
  skipSpaceAndCommas(): void {
    while (this.peek() === " " || this.peek() === "\t" || this.peek() === ",") this.pos++;
  }
  readWhile(accepts: (char: string) => boolean): string {
    const start = this.pos;
    while (!this.done && accepts(this.peek())) this.pos++;
    return this.input.slice(start, this.pos);
  }
  readQuoted(): string {
    const start = this.pos;
    this.pos++; // opening quote
    let value = "";
    for (;;) {
      if (this.done) fail(this.input, start, "unterminated quoted string");
      const char = this.peek();
      if (char === '"') {
        this.pos++;
        return value;
      }
      if (char === "\\") {
        this.pos++;
        if (this.done) fail(this.input, start, "unterminated quoted string");
        value += this.peek();
        this.pos++;
        continue;
      }
      if (isControlChar(char, { allowTab: true })) {
        fail(this.input, this.pos, "control character in quoted string");
      }
      value += char;
      this.pos++;
    }
  }
}

interface MutableChallenge {
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

function parseOne(cursor: Cursor, challenges: MutableChallenge[]): void {
  const { input } = cursor;
  const schemeStart = cursor.pos;
  const scheme = cursor.readWhile(isTokenChar);
  if (!scheme) fail(input, schemeStart, "expected an auth scheme");
  const challenge: MutableChallenge = { scheme: scheme.toLowerCase(), params: Object.create(null) };
  challenges.push(challenge);
  if (challenges.length > MAX_CHALLENGES) {
    fail(input, schemeStart, `more than ${MAX_CHALLENGES} challenges`);
  }

  const afterScheme = cursor.pos;
  cursor.skipSpace();
  if (cursor.done || cursor.peek() === ",") return;
  if (cursor.pos === afterScheme) fail(input, cursor.pos, "expected a space after the auth scheme");

  let first = true;
  let count = 0;
  for (;;) {
    const itemStart = cursor.pos;
    if (first) {
      // `Negotiate abc==`: a lone token68 followed by the end or a comma.
      TOKEN68.lastIndex = itemStart;
      const match = TOKEN68.exec(input);
      if (match?.[1]) {
        challenge.token68 = match[1];
        cursor.pos = itemStart + match[1].length;
        return;
      }
    }
    const name = cursor.readWhile(isTokenChar);
    cursor.skipSpace();
    if (name && cursor.peek() === "=") {
      cursor.pos++;
      cursor.skipSpace();
      let value: string;
      if (cursor.peek() === '"') value = cursor.readQuoted();
      else {
        value = cursor.readWhile(isLooseValueChar);
        if (!value && !cursor.done && cursor.peek() !== ",") {
          fail(input, cursor.pos, "expected a parameter value");
        }
      }
      const key = name.toLowerCase();
      // RFC 7235 forbids repeated parameters; the first one is kept so a later one cannot override it.
      if (!(key in challenge.params)) challenge.params[key] = value;
      if (++count > MAX_PARAMS) fail(input, itemStart, `more than ${MAX_PARAMS} parameters`);
    } else if (first) {
      fail(input, itemStart, "expected a parameter or token68");
    } else {
      // A token that is not followed by "=" starts the next challenge.
      cursor.pos = itemStart;
      return;
    }
    first = false;
    cursor.skipSpace();
    if (cursor.done) return;
    if (cursor.peek() !== ",") fail(input, cursor.pos, 'expected "," between parameters');
    cursor.skipSpaceAndCommas();
    if (cursor.done) return;
    // Peek ahead: `name =` continues this challenge, anything else begins a new one.
    const save = cursor.pos;
    const next = cursor.readWhile(isTokenChar);
    cursor.skipSpace();
    const continues = next !== "" && cursor.peek() === "=";
    cursor.pos = save;
    if (!continues) return;
  }
}

/**
 * Parses WWW-Authenticate header values into challenges. Accepts several challenges per value
 * and several values (one per header line), quoted and unquoted parameters, odd spacing and
 * case. Throws a {@link TransportError} with code HOIST_TRANSPORT_BAD_CHALLENGE for anything
 * malformed or oversized, and nothing else.
 */
export function parseChallenges(header: string | readonly string[]): Challenge[] {
  // JavaScript callers can pass anything; only a string or an array of them is a header.
  if (typeof header !== "string" && !Array.isArray(header)) {
    throw new TransportError(
      `WWW-Authenticate must be a string or an array of strings, got ${header === null ? "null" : typeof header}.`,
      { code: "HOIST_TRANSPORT_BAD_CHALLENGE", operation: "parse challenge" },
    );
  }
  const values: readonly string[] = typeof header === "string" ? [header] : header;
  let total = 0;
  for (const value of values) {
    if (typeof value !== "string") {
      throw new TransportError("WWW-Authenticate values must be strings.", {
        code: "HOIST_TRANSPORT_BAD_CHALLENGE",
        operation: "parse challenge",
      });
    }
    total += value.length;
  }
  if (total > MAX_CHALLENGE_HEADER_CHARS) {
    throw new TransportError(
      `WWW-Authenticate header is ${total} characters long, more than the ${MAX_CHALLENGE_HEADER_CHARS} ` +
        "hoist accepts; the registry (or a proxy in front of it) is misbehaving.",
      { code: "HOIST_TRANSPORT_BAD_CHALLENGE", operation: "parse challenge" },
    );
  }
  const challenges: MutableChallenge[] = [];
  for (const value of values) {
    const cursor = new Cursor(value);
    cursor.skipSpaceAndCommas();
    while (!cursor.done) {
      parseOne(cursor, challenges);
      cursor.skipSpaceAndCommas();
    }
  }
  return challenges;
}

/** The challenge a client should answer: Bearer or Basic first, else whatever came first. */
export function preferredChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === "bearer" || c.scheme === "basic") ?? challenges[0];
}

/** Scopes named by a challenge's `scope` parameter (space separated). */
export function challengeScopes(challenge: Challenge): string[] {
  const scope = challenge.params.scope;
  return scope ? scope.split(" ").filter(Boolean) : [];
}
