import type { Credential } from "@hoist/authn";

/** Shorter values are too likely to be ordinary words; nothing real is this short anyway. */
const MIN_SECRET_CHARS = 4;
export const SCRUBBED = "<redacted>";

/**
 * The strings that reveal what a request carried: an Authorization value, its encoded part,
 * and for Basic the decoded `user:password` and the password. A server that echoes any of
 * these in an error body must not get them into hoist's messages.
 */
export function authorizationSecrets(header: string | undefined): string[] {
  if (!header) return [];
  const out = [header];
  const match = /^(basic|bearer)\s+(.+)$/i.exec(header.trim());
  if (match?.[2]) {
    out.push(match[2]);
    if (match[1]?.toLowerCase() === "basic") {
      const decoded = Buffer.from(match[2], "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      out.push(decoded);
      if (colon >= 0) out.push(decoded.slice(colon + 1));
    }
  }
  return out;
}

/** The secret parts of a credential (its password or token, and their Basic encoding). */
export function credentialSecrets(credential: Credential): string[] {
  switch (credential.kind) {
    case "basic":
      return [
        credential.password,
        `${credential.username}:${credential.password}`,
        Buffer.from(`${credential.username}:${credential.password}`, "utf8").toString("base64"),
      ];
    case "identity-token":
    case "registry-token":
      return [credential.token];
    default:
      return [];
  }
}

/**
 * Replaces every secret in `text`, as is and in its JSON-escaped form (the shape it takes
 * inside a JSON error body), longest first so a value and its parts are all covered.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length < MIN_SECRET_CHARS) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (out.includes(form)) out = out.split(form).join(SCRUBBED);
  }
  return out;
}
