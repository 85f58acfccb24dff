import type { Credential } from "./credential.js";

/** One entry of a config file's `auths` map, after `auth` is decoded. */
export interface AuthEntry {
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
  readonly registrytoken?: string;
}

/** The fields of an `auths` entry that hold credentials (everything else, like email, is kept). */
export const CREDENTIAL_FIELDS = [
  "auth",
  "username",
  "password",
  "identitytoken",
  "registrytoken",
] as const;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/**
 * Decodes an `auth` field: base64 of "username:password", padded or not (some tools drop the
 * padding). Returns undefined when it is not base64 of a string with a colon and a username,
 * which docker treats as a broken file.
 */
export function decodeAuthField(auth: string): { username: string; password: string } | undefined {
  const trimmed = auth.trim();
  if (!BASE64.test(trimmed)) return undefined;
  const decoded = Buffer.from(trimmed, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return undefined;
  // docker strips NUL padding some old writers left after the password.
  return {
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1).replace(/\0+$/, ""),
  };
}

export function encodeAuthField(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, "utf8").toString("base64");
}

/**
 * What an entry grants, or undefined when it holds no credential (an entry with only an email,
 * or the empty `{}` docker leaves behind when a credential store keeps the secret).
 * A registry token wins over an identity token, which wins over a password, as in ggcr.
 */
export function entryCredential(entry: AuthEntry): Credential | undefined {
  if (entry.registrytoken) return { kind: "registry-token", token: entry.registrytoken };
  if (entry.identitytoken) {
    return entry.username
      ? { kind: "identity-token", token: entry.identitytoken, username: entry.username }
      : { kind: "identity-token", token: entry.identitytoken };
  }
  if (entry.username || entry.password) {
    return { kind: "basic", username: entry.username ?? "", password: entry.password ?? "" };
  }
  return undefined;
}

/** The username credential helpers use to say "the secret is an identity (refresh) token". */
export const HELPER_TOKEN_USERNAME = "<token>";

/** A credential helper's answer as a credential; undefined when it holds nothing. */
export function helperCredential(username: string, secret: string): Credential | undefined {
  if (username === HELPER_TOKEN_USERNAME) {
    return secret ? { kind: "identity-token", token: secret } : undefined;
  }
  if (!username && !secret) return undefined;
  return { kind: "basic", username, password: secret };
}
