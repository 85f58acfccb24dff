import type { Authenticator, Credential } from "@hoist/authn";
import { raceAbort } from "@hoist/oci";
import {
  type Challenge,
  challengeScopes,
  parseChallenges,
  preferredChallenge,
} from "./challenge.js";
import { authorizationSecrets } from "./echoed-secrets.js";
import { TransportError } from "./errors.js";
import { inspectToken } from "./jwt.js";
import type { PingResult, RegistryLike } from "./ping.js";
import type { RateLimit } from "./rate-limit.js";
import { redactUrl } from "./redact.js";
import { bufferErrorBody, buildRegistryError } from "./registry-error-body.js";
import { prepareBody, type RequestBody } from "./request-body.js";
import { createResponse, drain, type TransportResponse } from "./response.js";
import {
  isIdempotentMethod,
  type RetryPolicy,
  type RetryPolicyOptions,
  resolveRetryPolicy,
} from "./retry-policy.js";
import { mergeScopes, scopeKey } from "./scopes.js";
import { type Engine, type RawResponse, send } from "./send.js";
import { statusText } from "./status-text.js";
import { checkTarget } from "./target-safety.js";
import { DEFAULT_TOKEN_LIFETIME_SECONDS, exchangeToken } from "./token-exchange.js";
import { type CachedToken, expiryMargin, type TokenStore } from "./token-store.js";

/** One request through a session. */
export interface RequestOptions {
  /** HTTP method, e.g. "GET", "HEAD", "PUT". */
  method: string;
  /** Path and query on the registry, e.g. "/v2/library/ubuntu/manifests/latest". */
  path?: string;
  /**
   * An absolute URL instead of `path`, e.g. an upload Location or a next-page link. Credentials
   * are attached only when it is on the registry's own origin.
   */
  url?: string | URL;
  /** Extra request headers. Authorization is the session's job and is refused here. */
  headers?: Readonly<Record<string, string>>;
  body?: RequestBody;
  /**
   * Byte length of a stream or function body, sent as Content-Length (registries such as
   * GHCR want it on uploads). Without it such bodies go out with chunked encoding.
   */
  contentLength?: number;
  signal?: AbortSignal;
  /** Scopes this request needs (e.g. push, or pull on a mount source); added to the session's. */
  scopes?: readonly string[];
  /**
   * @deprecated No effect: every request may now go out on a connection of the transport's own
   * (see the README), whose bodies can be taken with `drainTo` when `isDrainable(body)`.
   */
  drainable?: boolean;
  /** Statuses returned to the caller; anything else throws a RegistryError. Default: any 2xx. */
  expectStatus?: readonly number[];
  /** Follow redirects (the default for GET and HEAD) or return them ("manual"). */
  redirect?: "follow" | "manual";
  /**
   * Whether repeating the request is harmless. Defaults to true for GET, HEAD, PUT, DELETE and
   * OPTIONS; set it for a POST that is safe to repeat (such as starting an upload).
   */
  idempotent?: boolean;
  /** `false` sends exactly once; an object overrides the transport's policy for this request. */
  retry?: boolean | RetryPolicyOptions;
}

/** An authenticated conversation with one registry. Safe to use from many requests at once. */
export interface Session {
  readonly registry: RegistryLike;
  /** "scheme://host[:port]" the API is reached at. */
  readonly origin: string;
  readonly scheme: "https" | "http";
  /** The challenge being answered (from the ping, or adopted from a later 401). */
  readonly challenge: Challenge | undefined;
  /** Scopes tokens are requested for, in the order sent. */
  readonly scopes: readonly string[];
  /** The quota headers of the latest registry response that carried them. */
  readonly rateLimit: RateLimit | undefined;
  /** Adds scopes for later requests (for example push before an upload). */
  addScopes(scopes: readonly string[]): void;
  request(options: RequestOptions): Promise<TransportResponse>;
}

export interface SessionInit {
  engine: Engine;
  tokens: TokenStore;
  registry: RegistryLike;
  ping: PingResult;
  authenticator: Authenticator;
  scopes: readonly string[];
  maxRedirects: number;
  clientId: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const FORBIDDEN_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "host",
  "content-length",
]);
/** Headers that stay with the origin that set them. */
const ORIGIN_BOUND_HEADERS = ["authorization", "cookie"];
/** Basic credentials are re-read this often, so helpers are not run for every request. */
const CREDENTIAL_TTL_MS = 60_000;

interface Authorization {
  header: string | undefined;
  kind: "none" | "basic" | "bearer";
  /** Cache key and value of the bearer token used, for invalidation. */
  tokenKey?: string;
  token?: string;
}

/** A credential asked for at `at`, kept for CREDENTIAL_TTL_MS. */
interface CredentialEntry {
  value: Promise<Credential>;
  at: number;
  /** What the credential gives a request once it has come (see #authorizeNow). */
  settled?: Authorization | undefined;
}

/** The token store's key for a bearer challenge and a scope set. */
function tokenKey(challenge: Challenge, scopes: readonly string[]): string {
  return `${challenge.params.realm ?? ""}\n${challenge.params.service ?? ""}\n${scopeKey(scopes)}`;
}

/** A token from the store, with its key kept for invalidation. */
function bearerAuthorization(key: string, token: CachedToken): Authorization {
  return { header: `Bearer ${token.value}`, kind: "bearer", tokenKey: key, token: token.value };
}

/** What a credential sends where the registry did not ask for a bearer token. */
function basicAuthorization(credential: Credential): Authorization {
  if (credential.kind === "basic") {
    const encoded = Buffer.from(`${credential.username}:${credential.password}`, "utf8").toString(
      "base64",
    );
    return { header: `Basic ${encoded}`, kind: "basic" };
  }
  if (credential.kind === "registry-token") {
    return { header: `Bearer ${credential.token}`, kind: "bearer" };
  }
  return { header: undefined, kind: "none" };
}

function invalidRequest(message: string): TransportError {
  return new TransportError(message, {
    code: "HOIST_TRANSPORT_INVALID_OPTIONS",
    operation: "request",
  });
}

export async function credentialOf(
  authenticator: Authenticator,
  signal: AbortSignal | undefined,
  host: string,
): Promise<Credential> {
  try {
    const credential = await authenticator.authorization(signal ? { signal } : {});
    if (!credential || typeof credential !== "object" || typeof credential.kind !== "string") {
      throw new TypeError("the authenticator returned something that is not a Credential");
    }
    return credential;
  } catch (cause) {
    if (TransportError.is(cause)) throw cause;
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new TransportError(`Could not get credentials for ${host}: ${why}`, {
      code: "HOIST_TRANSPORT_CREDENTIALS",
      operation: "authenticate",
      cause,
    });
  }
}

class RegistrySession implements Session {
  readonly registry: RegistryLike;
  readonly origin: string;
  readonly scheme: "https" | "http";
  readonly #engine: Engine;
  readonly #tokens: TokenStore;
  readonly #authenticator: Authenticator;
  readonly #originUrl: URL;
  readonly #maxRedirects: number;
  readonly #clientId: string;
  #challenge: Challenge | undefined;
  #scopes: string[];
  /** The token key of the current challenge and scopes (both are replaced, never changed). */
  #tokenKey: { challenge: Challenge; scopes: readonly string[]; key: string } | undefined;
  #rateLimit: RateLimit | undefined;
  #credential: CredentialEntry | undefined;

  constructor(init: SessionInit) {
    this.#engine = init.engine;
    this.#tokens = init.tokens;
    this.registry = init.registry;
    this.#authenticator = init.authenticator;
    this.#originUrl = new URL(init.ping.origin);
    this.origin = this.#originUrl.origin;
    this.scheme = init.ping.scheme;
    this.#challenge = init.ping.challenge;
    this.#scopes = mergeScopes([], init.scopes);
    this.#rateLimit = init.ping.rateLimit;
    this.#maxRedirects = init.maxRedirects;
    this.#clientId = init.clientId;
  }

  get challenge(): Challenge | undefined {
    return this.#challenge;
  }

  get scopes(): readonly string[] {
    return [...this.#scopes];
  }

  get rateLimit(): RateLimit | undefined {
    return this.#rateLimit;
  }

  addScopes(scopes: readonly string[]): void {
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === "string")) {
      throw invalidRequest('scopes must be an array of strings such as "repository:foo/bar:pull".');
    }
    const merged = mergeScopes(this.#scopes, scopes);
    // Kept as it is when nothing was added, so a cached token key stays valid.
    if (merged.length !== this.#scopes.length || merged.some((s, i) => s !== this.#scopes[i])) {
      this.#scopes = merged;
    }
  }

  /** Basic-path credential, cached briefly so helpers are not run per request. */
  #basicCredential(signal: AbortSignal | undefined): Promise<Credential> {
    const now = this.#engine.clock.now();
    if (!this.#credential || now - this.#credential.at > CREDENTIAL_TTL_MS) {
      const value = credentialOf(this.#authenticator, this.#engine.closed, this.registry.host);
      const entry: CredentialEntry = { value, at: now };
      this.#credential = entry;
      value.then(
        (credential) => {
          entry.settled = basicAuthorization(credential);
        },
        () => {
          if (this.#credential?.value === value) this.#credential = undefined;
        },
      );
    }
    return raceAbort(this.#credential.value, signal);
  }

  async #fetchToken(challenge: Challenge, scopes: readonly string[]): Promise<CachedToken> {
    const engine = this.#engine;
    const credential = await credentialOf(this.#authenticator, engine.closed, this.registry.host);
    if (credential.kind === "registry-token") {
      return { value: credential.token, expiresAt: Number.POSITIVE_INFINITY };
    }
    const realmKey = `${challenge.params.realm ?? ""}\n${challenge.params.service ?? ""}`;
    const learned = this.#tokens.refreshToken(this.#authenticator, realmKey);
    const effective: Credential =
      credential.kind === "identity-token" && learned
        ? { ...credential, token: learned }
        : credential;
    const response = await exchangeToken({
      engine,
      challenge,
      challengerUrl: this.#originUrl,
      credential: effective,
      scopes,
      signal: engine.closed,
      clientId: this.#clientId,
    });
    if (response.refreshToken && credential.kind === "identity-token") {
      this.#tokens.setRefreshToken(this.#authenticator, realmKey, response.refreshToken);
    }
    const now = engine.clock.now();
    let lifetimeMs = (response.expiresIn ?? DEFAULT_TOKEN_LIFETIME_SECONDS) * 1000;
    if (response.expiresIn === undefined) {
      const exp = inspectToken(response.token)?.expiresAt?.getTime();
      if (exp !== undefined && exp > now) lifetimeMs = exp - now;
    }
    return { value: response.token, expiresAt: now + lifetimeMs - expiryMargin(lifetimeMs) };
  }

  async #authorize(signal: AbortSignal | undefined): Promise<Authorization> {
    const challenge = this.#challenge;
    if (challenge?.scheme === "bearer") {
      const scopes = [...this.#scopes];
      const key = tokenKey(challenge, scopes);
      const token = await raceAbort(
        this.#tokens.obtain(this.#authenticator, key, () => this.#fetchToken(challenge, scopes)),
        signal,
      );
      return bearerAuthorization(key, token);
    }
    // No challenge, Basic, or a scheme we do not speak: send what the credential allows.
    return basicAuthorization(await this.#basicCredential(signal));
  }

  /**
   * The authorization when it is at hand without waiting: a token still valid in the store, or
   * a credential that came less than CREDENTIAL_TTL_MS ago. Most requests of a pull or push
   * take this path, with no promise, abort listener or base64 per request.
   */
  #authorizeNow(): Authorization | undefined {
    const challenge = this.#challenge;
    if (challenge?.scheme === "bearer") {
      let key = this.#tokenKey;
      if (key?.challenge !== challenge || key.scopes !== this.#scopes) {
        key = { challenge, scopes: this.#scopes, key: tokenKey(challenge, this.#scopes) };
        this.#tokenKey = key;
      }
      const token = this.#tokens.peek(this.#authenticator, key.key);
      return token === undefined ? undefined : bearerAuthorization(key.key, token);
    }
    const credential = this.#credential;
    if (credential?.settled === undefined) return undefined;
    if (this.#engine.clock.now() - credential.at > CREDENTIAL_TTL_MS) return undefined;
    return credential.settled;
  }

  /** Handles a 401 from the registry. True when sending again can succeed. */
  async #reauthenticate(
    response: RawResponse,
    used: Authorization,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const header = response.headers.get("www-authenticate");
    if (!header) return false;
    const challenge = preferredChallenge(parseChallenges(header));
    if (!challenge) return false;
    if (challenge.scheme === "bearer") {
      const before = this.#scopes;
      this.#challenge = challenge;
      // Prepended: some registries only read the first scope of a token request.
      this.#scopes = mergeScopes(this.#scopes, challengeScopes(challenge), { prepend: true });
      const sameScopes =
        before.length === this.#scopes.length && before.every((s, i) => s === this.#scopes[i]);
      if (sameScopes && used.tokenKey && used.token) {
        // Same scopes yet refused: the token expired or was revoked.
        this.#tokens.invalidate(this.#authenticator, used.tokenKey, used.token);
      }
      return true;
    }
    if (challenge.scheme === "basic") {
      if (used.kind === "basic") return false; // the credentials themselves were refused
      this.#challenge = challenge;
      const credential = await this.#basicCredential(signal);
      return credential.kind === "basic";
    }
    return false;
  }

  /** A redirect target on another origin challenged us: get it a token of its own, anonymously. */
  async #foreignToken(
    response: RawResponse,
    url: URL,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const header = response.headers.get("www-authenticate");
    if (!header) return undefined;
    const challenge = preferredChallenge(parseChallenges(header));
    if (challenge?.scheme !== "bearer") return undefined;
    const token = await exchangeToken({
      engine: this.#engine,
      challenge,
      challengerUrl: url,
      credential: { kind: "anonymous" },
      scopes: challengeScopes(challenge),
      signal,
      clientId: this.#clientId,
    });
    return `Bearer ${token.token}`;
  }

  #resolveUrl(options: RequestOptions): URL {
    if ((options.path === undefined) === (options.url === undefined)) {
      throw invalidRequest(
        "Pass exactly one of `path` (on the registry) or `url` (absolute) to request().",
      );
    }
    if (options.path !== undefined) {
      if (
        typeof options.path !== "string" ||
        !options.path.startsWith("/") ||
        options.path.startsWith("//")
      ) {
        throw invalidRequest(
          `request path must start with a single "/", such as "/v2/"; got "${String(options.path).slice(0, 200)}".`,
        );
      }
      return new URL(options.path, this.#originUrl);
    }
    let url: URL;
    try {
      url = new URL(String(options.url));
    } catch (cause) {
      throw new TransportError(
        `request url "${redactUrl(String(options.url))}" is not an absolute URL.`,
        {
          code: "HOIST_TRANSPORT_INVALID_OPTIONS",
          operation: "request",
          cause,
        },
      );
    }
    if (url.origin !== this.origin) checkTarget(url, this.#originUrl, "request");
    return url;
  }

  async request(options: RequestOptions): Promise<TransportResponse> {
    if (
      !options ||
      typeof options.method !== "string" ||
      !/^[A-Za-z]{1,20}$/.test(options.method)
    ) {
      throw invalidRequest(
        `request method must be an HTTP method such as "GET"; got "${String(options?.method).slice(0, 40)}".`,
      );
    }
    const method = options.method.toUpperCase();
    let url = this.#resolveUrl(options);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      const lower = name.toLowerCase();
      if (FORBIDDEN_HEADERS.has(lower)) {
        throw invalidRequest(
          `The ${name} header is set by the transport and cannot be passed to request().`,
        );
      }
      if (typeof value !== "string" || /[\r\n]/.test(value)) {
        throw invalidRequest(`Header ${name} must be a single-line string.`);
      }
      headers[lower] = value;
    }
    if (options.scopes) this.addScopes(options.scopes);
    const body = prepareBody(options.body, options.contentLength);
    const signal = options.signal;
    const policy: RetryPolicy | undefined =
      typeof options.retry === "object"
        ? resolveRetryPolicy({ ...this.#engine.retry, ...options.retry })
        : undefined;
    const retryable =
      options.retry !== false &&
      (body?.replayable ?? true) &&
      (options.idempotent ?? isIdempotentMethod(method));
    const follow =
      (options.redirect ?? "follow") === "follow" && (method === "GET" || method === "HEAD");

    let hops = 0;
    let registryReauthenticated = false;
    let foreignAuthorization: string | undefined;
    let foreignReauthenticated = false;
    let sent = false;

    for (;;) {
      const onRegistry = url.origin === this.origin;
      const authorization = onRegistry
        ? (this.#authorizeNow() ?? (await this.#authorizeFor(signal, url, method)))
        : undefined;
      const requestHeaders = { ...headers };
      const header = onRegistry ? authorization?.header : foreignAuthorization;
      if (header) requestHeaders.authorization = header;
      if (sent && body && !body.replayable) {
        // Unreachable by construction (we check before looping), kept as a guard against misuse.
        throw invalidRequest("A one-shot request body cannot be sent twice.");
      }
      sent = true;
      const response = await send(this.#engine, {
        operation: "request",
        method,
        url,
        headers: requestHeaders,
        body,
        signal,
        retryable,
        policy,
      });
      if (onRegistry && response.rateLimit) this.#rateLimit = response.rateLimit;

      if (response.status === 401) {
        const canResend = !body || body.replayable;
        if (onRegistry && !registryReauthenticated && authorization) {
          const again = await this.#reauthenticate(response, authorization, signal);
          if (again && canResend) {
            registryReauthenticated = true;
            await drain(response.body);
            sent = false;
            continue;
          }
          if (again && !canResend) {
            throw await this.#error(response, method, url, options, {
              used: authorization,
              hint: "The registry asked to re-authenticate, but the request body was a one-shot stream and cannot be sent again; pass a Uint8Array or a body function, or request the needed scopes up front",
            });
          }
        } else if (!onRegistry && !foreignReauthenticated && canResend) {
          foreignReauthenticated = true;
          let exchanged: string | undefined;
          let failure: unknown;
          try {
            exchanged = await this.#foreignToken(response, url, signal);
          } catch (error) {
            failure = error;
          }
          if (exchanged) {
            foreignAuthorization = exchanged;
            await drain(response.body);
            sent = false;
            continue;
          }
          if (failure) {
            throw await this.#error(response, method, url, options, {
              used:
                foreignAuthorization === undefined
                  ? undefined
                  : { header: foreignAuthorization, kind: "bearer" },
              hint: `${url.host} asked for its own token and getting one anonymously failed: ${failure instanceof Error ? failure.message : String(failure)}`,
            });
          }
        }
      }

      const location = response.headers.get("location");
      if (
        follow &&
        REDIRECT_STATUSES.has(response.status) &&
        location &&
        !options.expectStatus?.includes(response.status)
      ) {
        await drain(response.body);
        if (hops >= this.#maxRedirects) {
          throw new TransportError(
            `${method} ${redactUrl(url)}: more than ${this.#maxRedirects} redirects; the registry or its storage is redirecting in a loop.`,
            {
              code: "HOIST_TRANSPORT_TOO_MANY_REDIRECTS",
              operation: "request",
              method,
              url: redactUrl(url),
            },
          );
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch (cause) {
          throw new TransportError(
            `${method} ${redactUrl(url)}: redirect to "${redactUrl(location)}", which is not a URL.`,
            {
              code: "HOIST_TRANSPORT_UNSAFE_TARGET",
              operation: "request",
              method,
              url: redactUrl(url),
              cause,
            },
          );
        }
        checkTarget(next, this.#originUrl, "request");
        if (next.origin !== url.origin) {
          for (const name of ORIGIN_BOUND_HEADERS) delete headers[name];
          foreignAuthorization = undefined;
          foreignReauthenticated = false;
        }
        url = next;
        hops++;
        sent = false;
        continue;
      }

      const accepted = options.expectStatus
        ? options.expectStatus.includes(response.status)
        : response.status >= 200 && response.status < 300;
      if (!accepted) {
        throw await this.#error(response, method, url, options, {
          used: onRegistry
            ? authorization
            : foreignAuthorization === undefined
              ? undefined
              : { header: foreignAuthorization, kind: "bearer" },
        });
      }
      return createResponse({
        status: response.status,
        headers: response.headers,
        method,
        url: url.href,
        redirected: hops > 0,
        rateLimit: response.rateLimit,
        body: response.empty ? undefined : response.body,
        signal,
      });
    }
  }

  async #authorizeFor(
    signal: AbortSignal | undefined,
    url: URL,
    method: string,
  ): Promise<Authorization> {
    try {
      return await this.#authorize(signal);
    } catch (error) {
      if (TransportError.is(error)) throw error;
      if (signal?.aborted) {
        throw new TransportError(`${method} ${redactUrl(url)}: aborted while authenticating.`, {
          code: "HOIST_TRANSPORT_ABORTED",
          operation: "authenticate",
          method,
          url: redactUrl(url),
          cause: signal.reason,
        });
      }
      throw error;
    }
  }

  async #error(
    response: RawResponse,
    method: string,
    url: URL,
    options: RequestOptions,
    extra: { hint?: string; used?: Authorization | undefined },
  ) {
    const redacted = redactUrl(url);
    const buffered =
      response.buffered ??
      (await bufferErrorBody(response.body, () => ({ method, url: redacted }), options.signal));
    let hint = extra.hint;
    if (!hint && url.origin === this.origin) {
      if (response.status === 401) {
        hint =
          extra.used?.kind === "none"
            ? `No credentials were used for ${this.registry.host}; log in or pass an authenticator`
            : `${this.registry.host} refused the credentials, or they do not grant [${this.#scopes.join(" ")}]`;
      } else if (response.status === 403) {
        hint = `The credentials for ${this.registry.host} lack permission for this operation`;
      }
    }
    return buildRegistryError({
      operation: "request",
      method,
      url: redacted,
      status: response.status,
      statusText: statusText(response.status),
      headers: response.headers,
      body: buffered,
      policy: this.#engine.retry,
      now: this.#engine.clock.now(),
      attempts: response.attempts,
      elapsedMs: response.elapsedMs,
      hint,
      // A registry may echo what it was sent (an Authorization header, a token) in its body.
      secrets: authorizationSecrets(extra.used?.header),
    });
  }
}

export function createSession(init: SessionInit): Session {
  return new RegistrySession(init);
}
