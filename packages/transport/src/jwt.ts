/** What a JWT bearer token says about itself. Nothing here is verified: display only. */
export interface TokenInfo {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly issuer?: string;
  readonly subject?: string;
  readonly audience?: readonly string[];
  readonly expiresAt?: Date;
  readonly issuedAt?: Date;
  /** Docker token claims: `[{type, name, actions}]`. */
  readonly access?: readonly { type: string; name: string; actions: readonly string[] }[];
}

const MAX_TOKEN_CHARS = 64 * 1024;

function decodePart(part: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function epochDate(value: unknown): Date | undefined {
  return typeof value === "number" && Number.isFinite(value) ? new Date(value * 1000) : undefined;
}

/**
 * Decodes a JWT-shaped bearer token without verifying it (registries are the ones that verify).
 * Returns undefined for opaque tokens.
 */
export function inspectToken(token: string): TokenInfo | undefined {
  if (typeof token !== "string" || token.length > MAX_TOKEN_CHARS) return undefined;
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[0] || !parts[1]) return undefined;
  const header = decodePart(parts[0]);
  const claims = decodePart(parts[1]);
  if (!header || !claims) return undefined;
  const audience =
    typeof claims.aud === "string"
      ? [claims.aud]
      : Array.isArray(claims.aud)
        ? claims.aud.filter((a): a is string => typeof a === "string")
        : undefined;
  const access = Array.isArray(claims.access)
    ? claims.access.flatMap((entry) => {
        const e = entry as { type?: unknown; name?: unknown; actions?: unknown };
        if (typeof e?.type !== "string" || typeof e.name !== "string") return [];
        const actions = Array.isArray(e.actions)
          ? e.actions.filter((a): a is string => typeof a === "string")
          : [];
        return [{ type: e.type, name: e.name, actions }];
      })
    : undefined;
  const expiresAt = epochDate(claims.exp);
  const issuedAt = epochDate(claims.iat);
  return {
    header,
    claims,
    ...(typeof claims.iss === "string" ? { issuer: claims.iss } : {}),
    ...(typeof claims.sub === "string" ? { subject: claims.sub } : {}),
    ...(audience ? { audience } : {}),
    ...(expiresAt ? { expiresAt } : {}),
    ...(issuedAt ? { issuedAt } : {}),
    ...(access ? { access } : {}),
  };
}
