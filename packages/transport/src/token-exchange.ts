import type { Credential } from "@hoist/authn";
import { z } from "zod";
import type { Challenge } from "./challenge.js";
import { credentialSecrets, scrubSecrets } from "./echoed-secrets.js";
import { type RegistryDiagnostic, TokenExchangeError, TransportError } from "./errors.js";
import { redactUrl } from "./redact.js";
import {
  bufferErrorBody,
  MAX_ERROR_BODY_BYTES,
  parseRegistryErrorBody,
} from "./registry-error-body.js";
import { prepareBody } from "./request-body.js";
import { drain, readLimited } from "./response.js";
import { type Engine, type RawResponse, send } from "./send.js";
import { statusText } from "./status-text.js";
import { checkRealm } from "./target-safety.js";

/** A token endpoint's answer. */
export interface TokenResponse {
  /** The bearer token: `token`, or `access_token` when the server sent only that. */
  readonly token: string;
  readonly accessToken?: string;
  /** An OAuth2 refresh token, when the server issued one (offline grants, refresh grants). */
  readonly refreshToken?: string;
  /** Lifetime in seconds, as the server stated it. */
  readonly expiresIn?: number;
  readonly issuedAt?: string;
}

/** Default token lifetime when the server does not say (the Docker token spec's 60 s). */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 60;
/** OAuth2 client id sent with POST grants. */
export const DEFAULT_CLIENT_ID = "hoist";
const MAX_TOKEN_REDIRECTS = 5;

const tokenResponseSchema = z.looseObject({
  token: z.string().max(MAX_ERROR_BODY_BYTES).optional(),
  access_token: z.string().max(MAX_ERROR_BODY_BYTES).optional(),
  refresh_token: z.string().max(MAX_ERROR_BODY_BYTES).optional(),
  expires_in: z.number().nonnegative().optional(),
  issued_at: z.string().max(100).optional(),
});

/** How to ask for a token. "auto" picks by credential; "password" asks for a refresh token too. */
export type TokenGrant = "auto" | "password";

export interface ExchangeOptions {
  engine: Engine;
  challenge: Challenge;
  /** The URL of the server that issued the challenge (for realm safety). */
  challengerUrl: URL;
  credential: Credential;
  scopes: readonly string[];
  signal?: AbortSignal | undefined;
  clientId?: string | undefined;
  grant?: TokenGrant | undefined;
}

function realmOf(challenge: Challenge, challengerUrl: URL): URL {
  const realm = challenge.params.realm;
  if (!realm) {
    throw new TransportError(
      `The Bearer challenge from ${challengerUrl.host} has no realm, so there is nowhere to get a token from. The registry's auth configuration is broken.`,
      { code: "HOIST_TRANSPORT_BAD_CHALLENGE", operation: "token exchange" },
    );
  }
  return checkRealm(realm, challengerUrl);
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

interface TokenRequest {
  method: "GET" | "POST";
  url: URL;
  headers: Record<string, string>;
  form?: string;
}

function who(credential: Credential): string {
  switch (credential.kind) {
    case "basic":
      return `as "${credential.username}"`;
    case "identity-token":
      return "with a refresh token";
    case "registry-token":
      return "with a registry token";
    case "anonymous":
      return "anonymously";
  }
}

/** The OAuth2 `{"error": ..., "error_description": ...}` form, which token servers also use. */
function oauthDiagnostics(text: string): RegistryDiagnostic[] {
  try {
    const json = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof json.error === "string") {
      return [
        {
          code: json.error.slice(0, 100),
          message:
            typeof json.error_description === "string" ? json.error_description.slice(0, 500) : "",
        },
      ];
    }
  } catch {
    // not JSON
  }
  return [];
}

async function sendFollowing(
  options: ExchangeOptions,
  request: TokenRequest,
  initialRealm: URL,
): Promise<RawResponse> {
  let current = request;
  for (let hop = 0; ; hop++) {
    const body = current.form === undefined ? undefined : prepareBody(current.form);
    const response = await send(options.engine, {
      operation: "token exchange",
      method: current.method,
      url: current.url,
      headers: current.headers,
      body,
      signal: options.signal,
      // Token requests change nothing on the server: safe to repeat.
      retryable: true,
    });
    const location = response.headers.get("location");
    if (![301, 302, 303, 307, 308].includes(response.status) || !location) return response;
    await drain(response.body);
    if (hop >= MAX_TOKEN_REDIRECTS) {
      throw new TransportError(
        `Token endpoint ${redactUrl(initialRealm)} redirected more than ${MAX_TOKEN_REDIRECTS} times.`,
        {
          code: "HOIST_TRANSPORT_TOO_MANY_REDIRECTS",
          operation: "token exchange",
          url: redactUrl(initialRealm),
        },
      );
    }
    // Every hop must be as safe as the realm itself was required to be.
    const next = checkRealm(new URL(location, current.url).href, options.challengerUrl);
    const headers = { ...current.headers };
    if (next.origin !== initialRealm.origin) delete headers.authorization;
    const keepsBody = response.status === 307 || response.status === 308;
    current = keepsBody
      ? { ...current, url: next, headers }
      : {
          method: "GET",
          url: next,
          headers: Object.fromEntries(
            Object.entries(headers).filter(([k]) => k !== "content-type"),
          ),
        };
  }
}

/**
 * Exchanges a credential for a bearer token at the challenge's realm: the Docker token GET
 * (Basic credentials, or none), the OAuth2 POST for refresh tokens (falling back to GET when
 * the server does not implement it), or no request at all for a registry token.
 */
export async function exchangeToken(options: ExchangeOptions): Promise<TokenResponse> {
  const { credential } = options;
  if (credential.kind === "registry-token") return { token: credential.token };
  const realm = realmOf(options.challenge, options.challengerUrl);
  const service = options.challenge.params.service ?? "";
  const clientId = options.clientId ?? DEFAULT_CLIENT_ID;

  const getRequest = (withCredential: Credential): TokenRequest => {
    const url = new URL(realm.href);
    url.searchParams.delete("scope");
    url.searchParams.delete("service");
    for (const scope of options.scopes) url.searchParams.append("scope", scope);
    url.searchParams.set("service", service);
    const headers: Record<string, string> = { accept: "application/json" };
    if (withCredential.kind === "basic") {
      headers.authorization = basicHeader(withCredential.username, withCredential.password);
    }
    return { method: "GET", url, headers };
  };
  const postRequest = (fields: Record<string, string>): TokenRequest => {
    const form = new URLSearchParams({ ...fields, client_id: clientId, service });
    if (options.scopes.length > 0) form.set("scope", options.scopes.join(" "));
    return {
      method: "POST",
      url: new URL(realm.href),
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      form: form.toString(),
    };
  };

  let request: TokenRequest;
  let fallback: TokenRequest | undefined;
  if (credential.kind === "identity-token") {
    request = postRequest({ grant_type: "refresh_token", refresh_token: credential.token });
    // Servers without the OAuth2 endpoint answer 404/405; their GET flow then serves anonymous scopes.
    fallback = getRequest({ kind: "anonymous" });
  } else if (credential.kind === "basic" && options.grant === "password") {
    request = postRequest({
      grant_type: "password",
      username: credential.username,
      password: credential.password,
      access_type: "offline",
    });
    fallback = getRequest(credential);
  } else {
    request = getRequest(credential);
  }

  let response = await sendFollowing(options, request, realm);
  if (fallback && (response.status === 404 || response.status === 405)) {
    await drain(response.body);
    options.engine.debug?.(
      `token endpoint ${redactUrl(realm)} answered ${response.status} to POST; falling back to GET`,
    );
    request = fallback;
    response = await sendFollowing(options, request, realm);
  }

  const describe = () => ({ method: request.method, url: redactUrl(request.url) });
  if (response.status !== 200) {
    const buffered = await bufferErrorBody(response.body, describe, options.signal);
    // A token server may echo the credentials it was sent (a password, a refresh token).
    const text = scrubSecrets(buffered.bytes.toString("utf8"), credentialSecrets(credential));
    const errors = [...parseRegistryErrorBody(text), ...oauthDiagnostics(text)];
    const reason = errors.length
      ? errors.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join("; ")
      : "no explanation given";
    const advice =
      response.status === 401 || response.status === 403
        ? " Check the username and password (or token) for this registry."
        : "";
    throw new TokenExchangeError({
      realm: redactUrl(request.url),
      method: request.method,
      status: response.status,
      errors,
      attempts: response.attempts,
      message:
        `Token exchange at ${redactUrl(realm)} ${who(credential)} for [${options.scopes.join(" ")}] failed: ` +
        `${response.status} ${statusText(response.status)}: ${reason}.${advice}`,
    });
  }

  const { bytes } = await readLimited(response.body, MAX_ERROR_BODY_BYTES, {
    truncate: false,
    describe,
    signal: options.signal,
  });
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    // The parser's message quotes the body, which may hold a token: leave it out.
    throw badTokenResponse(realm, "the body is not JSON");
  }
  const parsed = tokenResponseSchema.safeParse(json);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join(".") || "body";
    throw badTokenResponse(realm, `field "${field}" is invalid`);
  }
  const data = parsed.data;
  // access_token is the OAuth2 name and wins when both are present (as go-containerregistry does).
  const token = data.access_token || data.token;
  if (!token) {
    const keys = Object.keys(data).slice(0, 10).join(", ") || "none";
    throw badTokenResponse(realm, `it holds neither "token" nor "access_token" (fields: ${keys})`);
  }
  return {
    token,
    ...(data.access_token ? { accessToken: data.access_token } : {}),
    ...(data.refresh_token ? { refreshToken: data.refresh_token } : {}),
    ...(data.expires_in !== undefined ? { expiresIn: data.expires_in } : {}),
    ...(data.issued_at ? { issuedAt: data.issued_at } : {}),
  };
}

function badTokenResponse(realm: URL, why: string): TransportError {
  return new TransportError(
    `Token endpoint ${redactUrl(realm)} answered 200 but ${why}. The registry's token service is misbehaving.`,
    {
      code: "HOIST_TRANSPORT_BAD_TOKEN_RESPONSE",
      operation: "token exchange",
      url: redactUrl(realm),
    },
  );
}
