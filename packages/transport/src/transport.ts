import { setMaxListeners } from "node:events";
import type { Authenticator, Keychain, Resource } from "@hoist/authn";
import { raceAbort } from "@hoist/oci";
import type { Dispatcher } from "undici";
import { type Clock, systemClock } from "./clock.js";
import { DirectPool } from "./direct/direct-pool.js";
import {
  createDispatcher,
  type ProxyOptions,
  proxyAllowsDirect,
  type TlsOptions,
  tlsConnectOptions,
} from "./dispatcher.js";
import { TransportError } from "./errors.js";
import { HostLimiter, type HostLimits } from "./host-limiter.js";
import {
  type PingResult,
  ping,
  type RegistryInput,
  type RegistryLike,
  toRegistry,
} from "./ping.js";
import { type RetryPolicy, type RetryPolicyOptions, resolveRetryPolicy } from "./retry-policy.js";
import type { Engine, ResponseInfo } from "./send.js";
import { createSession, credentialOf, type Session } from "./session.js";
import {
  DEFAULT_CLIENT_ID,
  exchangeToken,
  type TokenGrant,
  type TokenResponse,
} from "./token-exchange.js";
import { TokenStore } from "./token-store.js";
import { isValidUserAgentSuffix, userAgent } from "./version.js";

export interface TransportOptions {
  /** Appended to "hoist/<version>" in the User-Agent header, e.g. "my-ci/2.1". */
  userAgent?: string;
  tls?: TlsOptions;
  /** Default "env": HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured. */
  proxy?: ProxyOptions;
  /** Connections kept per origin (scheme, host, port). Default 32. */
  connectionsPerOrigin?: number;
  /** Idle keep-alive connections are closed after this long. Default 30 s. */
  keepAliveTimeoutMs?: number;
  /** Default 30 s. */
  connectTimeoutMs?: number;
  /** Longest wait for response headers after a request was sent. Default 120 s. */
  headersTimeoutMs?: number;
  /** Longest silence between two chunks of a response body. Default 120 s. */
  bodyTimeoutMs?: number;
  /** Retry policy; `false` disables retries. Defaults: {@link defaultRetryPolicy}. */
  retry?: RetryPolicyOptions | false;
  /** Optional throttles, for every host or chosen per host. Default: none. */
  hostLimits?: HostLimits | ((host: string) => HostLimits | undefined);
  /** Redirects followed per GET/HEAD request. Default 5. */
  maxRedirects?: number;
  /** OAuth2 client_id sent with POST token grants. Default "hoist". */
  clientId?: string;
  /** Receives one line per request, response, retry and token exchange, secrets redacted. */
  debug?: (line: string) => void;
  /**
   * Extra headers for every request (docker config.json's `HttpHeaders`). A request's own
   * headers win; User-Agent is the transport's. Credentials and framing headers
   * (Authorization, Cookie, Host, Content-Length, …) are refused: they would travel to every
   * host, token realms and redirect targets included.
   */
  headers?: Record<string, string>;
  /**
   * Sees the status and headers of every answer, each attempt and redirect hop included
   * (to collect `Warning: 299` headers, say). The URL is redacted; the body is not offered.
   */
  onResponse?: (response: ResponseInfo) => void;
  /** Time source for backoff, Retry-After, token expiry and rate limits. Default: the system clock. */
  clock?: Clock;
  /**
   * An undici dispatcher to use instead of the transport's own (tls, proxy and connection
   * options are then ignored). The caller keeps ownership: close() leaves it open.
   */
  dispatcher?: Dispatcher;
}

export interface SessionOptions {
  /** A Registry from @hoist/name, or "host[:port]" (parsed with @hoist/name). */
  registry: RegistryInput;
  /** Credentials to use. Pass this or `keychain`, not both; neither means anonymous. */
  authenticator?: Authenticator;
  /** Looked up once for `resource` (default: the registry). */
  keychain?: Keychain;
  /** What the keychain is asked about, e.g. a Repository for repository-scoped credentials. */
  resource?: Resource;
  /** Token scopes to start with, e.g. ["repository:library/ubuntu:pull"]. */
  scopes?: readonly string[];
  signal?: AbortSignal;
}

export interface ExchangeTokenOptions extends SessionOptions {
  /** "password" uses the OAuth2 password grant and asks for a refresh token (for `auth login`). */
  grant?: TokenGrant;
}

export interface PingOptions {
  signal?: AbortSignal;
}

/** Authenticated, retrying HTTP to container registries. Close it when done. */
export interface Transport {
  /** The User-Agent header sent with every request. */
  readonly userAgent: string;
  readonly retryPolicy: RetryPolicy;
  /** `GET /v2/`: learns the registry's scheme and auth challenge. Always asks the registry. */
  ping(registry: RegistryInput, options?: PingOptions): Promise<PingResult>;
  /**
   * Opens an authenticated session with a registry: pings it (once per transport and
   * registry) and resolves credentials. Tokens are fetched when the first request needs one.
   */
  session(options: SessionOptions): Promise<Session>;
  /** Runs the token exchange alone and returns the server's answer, for `auth token`. */
  exchangeToken(options: ExchangeTokenOptions): Promise<TokenResponse>;
  /** Closes pooled connections and aborts requests still in flight. */
  close(): Promise<void>;
}

/** Transport only uses @hoist/authn's types, so it carries its own anonymous authenticator. */
const ANONYMOUS: Authenticator = Object.freeze({
  authorization: async () => ({ kind: "anonymous" }) as const,
});

function invalid(message: string): TransportError {
  return new TransportError(message, {
    code: "HOIST_TRANSPORT_INVALID_OPTIONS",
    operation: "create transport",
  });
}

function numberOption(
  options: TransportOptions,
  key: keyof TransportOptions,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      `${key} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

function hostLimitsResolver(
  limits: TransportOptions["hostLimits"],
): (host: string) => HostLimits | undefined {
  const check = (value: HostLimits | undefined): HostLimits | undefined => {
    if (value === undefined) return undefined;
    const { maxConcurrent, requestsPerSecond } = value;
    if (maxConcurrent !== undefined && (!Number.isInteger(maxConcurrent) || maxConcurrent < 1)) {
      throw invalid(
        `hostLimits.maxConcurrent must be a whole number of at least 1; got ${JSON.stringify(maxConcurrent)}.`,
      );
    }
    if (
      requestsPerSecond !== undefined &&
      !(
        typeof requestsPerSecond === "number" &&
        requestsPerSecond > 0 &&
        Number.isFinite(requestsPerSecond)
      )
    ) {
      throw invalid(
        `hostLimits.requestsPerSecond must be a positive number; got ${JSON.stringify(requestsPerSecond)}.`,
      );
    }
    return value;
  };
  if (limits === undefined) return () => undefined;
  if (typeof limits === "function") return (host) => check(limits(host));
  const fixed = check(limits);
  return () => fixed;
}

async function resolveAuthenticator(
  options: SessionOptions,
  registry: RegistryLike,
  operation: string,
): Promise<Authenticator> {
  if (options.authenticator && options.keychain) {
    throw new TransportError(
      "Pass either an authenticator or a keychain, not both: it would be unclear which credentials win.",
      { code: "HOIST_TRANSPORT_INVALID_OPTIONS", operation },
    );
  }
  if (options.authenticator) {
    if (typeof options.authenticator.authorization !== "function") {
      throw new TransportError(
        "authenticator must have an authorization() method (see @hoist/authn).",
        {
          code: "HOIST_TRANSPORT_INVALID_OPTIONS",
          operation,
        },
      );
    }
    return options.authenticator;
  }
  if (!options.keychain) return ANONYMOUS;
  const resource = options.resource ?? registry;
  try {
    return await options.keychain.resolve(
      resource,
      options.signal ? { signal: options.signal } : {},
    );
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new TransportError(
      `Keychain "${options.keychain.name}" could not resolve credentials for ${String(resource)}: ${why}`,
      { code: "HOIST_TRANSPORT_CREDENTIALS", operation, cause },
    );
  }
}

/** Header names `headers` may not set: credentials, cookies and message framing. */
const RESERVED_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "upgrade",
  "te",
  "expect",
  "keep-alive",
  "user-agent",
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Whether `TransportOptions.headers` accepts a header of this name (any case): a valid HTTP
 * token that is not a credential, cookie, framing or User-Agent header. For callers that gather
 * headers from elsewhere (docker config.json's `HttpHeaders`) and drop what would be refused.
 */
export function isSettableHeader(name: string): boolean {
  return HEADER_NAME.test(name) && !RESERVED_HEADERS.has(name.toLowerCase());
}

const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function extraHeaders(input: TransportOptions["headers"]): Record<string, string> {
  if (input === undefined) return {};
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw invalid("headers must be an object of header names to string values.");
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(input)) {
    if (!HEADER_NAME.test(name))
      throw invalid(`headers: ${JSON.stringify(name)} is not a valid header name.`);
    if (typeof value !== "string" || !HEADER_VALUE.test(value)) {
      throw invalid(`headers: the value of ${name} must be a string without control characters.`);
    }
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) {
      throw invalid(
        `headers: ${name} cannot be set for every request; credentials and framing headers are the transport's job.`,
      );
    }
    out[lower] = value;
  }
  return out;
}

/** Creates a transport that owns one undici connection pool (unless given a dispatcher). */
export function createTransport(options: TransportOptions = {}): Transport {
  if (options.userAgent !== undefined && !isValidUserAgentSuffix(options.userAgent)) {
    throw invalid(
      `userAgent must be 1-200 printable ASCII characters; got ${JSON.stringify(options.userAgent.slice(0, 50))}.`,
    );
  }
  if (options.debug !== undefined && typeof options.debug !== "function") {
    throw invalid("debug must be a function that takes one line of text.");
  }
  if (options.onResponse !== undefined && typeof options.onResponse !== "function") {
    throw invalid("onResponse must be a function that takes one response.");
  }
  const headers = extraHeaders(options.headers);
  const clock = options.clock ?? systemClock;
  const retry = resolveRetryPolicy(options.retry);
  const maxRedirects = numberOption(options, "maxRedirects", 5, 0, 20);
  const ownsDispatcher = options.dispatcher === undefined;
  const limits = {
    keepAliveTimeoutMs: numberOption(options, "keepAliveTimeoutMs", 30_000, 1, 3_600_000),
    connectTimeoutMs: numberOption(options, "connectTimeoutMs", 30_000, 1, 3_600_000),
    headersTimeoutMs: numberOption(options, "headersTimeoutMs", 120_000, 1, 3_600_000),
    bodyTimeoutMs: numberOption(options, "bodyTimeoutMs", 120_000, 1, 3_600_000),
  };
  const dispatcher =
    options.dispatcher ??
    createDispatcher({
      tls: options.tls,
      proxy: options.proxy,
      connectionsPerOrigin: numberOption(options, "connectionsPerOrigin", 32, 1, 1024),
      ...limits,
    });
  // A caller's own dispatcher may route, mock or record requests: then everything goes to it.
  let tlsOptions: ReturnType<typeof tlsConnectOptions> | undefined;
  const direct =
    ownsDispatcher && proxyAllowsDirect(options.proxy)
      ? new DirectPool({
          ...limits,
          tls: () => {
            tlsOptions ??= tlsConnectOptions(options.tls);
            return tlsOptions;
          },
          maxIdlePerOrigin: 8,
        })
      : undefined;
  const clientId = options.clientId ?? DEFAULT_CLIENT_ID;
  const closer = new AbortController();
  // Every request in flight or queued for a slot listens to this; dozens at once is normal, not
  // the leak Node's warning past 10 listeners looks for.
  setMaxListeners(0, closer.signal);
  const engine: Engine = {
    dispatcher,
    direct,
    clock,
    retry,
    limiter: new HostLimiter(hostLimitsResolver(options.hostLimits), clock),
    userAgent: userAgent(options.userAgent),
    debug: options.debug,
    headers,
    onResponse: options.onResponse,
    closed: closer.signal,
  };
  const tokens = new TokenStore(clock);
  const pings = new Map<string, Promise<PingResult>>();

  const ensureOpen = (operation: string) => {
    if (closer.signal.aborted) {
      throw new TransportError("The transport is closed; create a new one.", {
        code: "HOIST_TRANSPORT_CLOSED",
        operation,
      });
    }
  };

  /** One ping per registry, shared by every session; a failed ping is forgotten. */
  const cachedPing = (
    registry: RegistryLike,
    signal: AbortSignal | undefined,
  ): Promise<PingResult> => {
    const key = `${registry.scheme}://${registry.host}`;
    let shared = pings.get(key);
    if (!shared) {
      shared = ping(engine, registry, {});
      pings.set(key, shared);
      shared.catch(() => {
        if (pings.get(key) === shared) pings.delete(key);
      });
    }
    // The shared ping runs on; only this caller stops waiting when its signal fires.
    return raceAbort(shared, signal).catch((error: unknown) => {
      if (signal?.aborted && error === signal.reason) throw abortError("ping", signal);
      throw error;
    });
  };

  return {
    userAgent: engine.userAgent,
    retryPolicy: retry,

    async ping(input, pingOptions = {}) {
      ensureOpen("ping");
      const registry = toRegistry(input, "ping");
      const result = await ping(engine, registry, { signal: pingOptions.signal });
      pings.set(`${registry.scheme}://${registry.host}`, Promise.resolve(result));
      return result;
    },

    async session(sessionOptions) {
      ensureOpen("session");
      if (!sessionOptions || typeof sessionOptions !== "object") {
        throw invalid("session() needs an options object with at least { registry }.");
      }
      const scopes = sessionOptions.scopes ?? [];
      if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === "string")) {
        throw invalid('scopes must be an array of strings such as "repository:foo/bar:pull".');
      }
      const registry = toRegistry(sessionOptions.registry, "session");
      const authenticator = await resolveAuthenticator(sessionOptions, registry, "session");
      const pinged = await cachedPing(registry, sessionOptions.signal);
      return createSession({
        engine,
        tokens,
        registry,
        ping: pinged,
        authenticator,
        scopes,
        maxRedirects,
        clientId,
      });
    },

    async exchangeToken(exchangeOptions) {
      ensureOpen("token exchange");
      const registry = toRegistry(exchangeOptions.registry, "token exchange");
      const authenticator = await resolveAuthenticator(exchangeOptions, registry, "token exchange");
      const pinged = await cachedPing(registry, exchangeOptions.signal);
      const challenge = pinged.challenge;
      if (challenge?.scheme !== "bearer") {
        throw new TransportError(
          `${registry.host} does not use token authentication (its challenge is ${challenge ? `"${challenge.scheme}"` : "absent"}), so there is no token to get.`,
          { code: "HOIST_TRANSPORT_NOT_BEARER", operation: "token exchange" },
        );
      }
      const credential = await credentialOf(authenticator, exchangeOptions.signal, registry.host);
      return exchangeToken({
        engine,
        challenge,
        challengerUrl: new URL(pinged.origin),
        credential,
        scopes: exchangeOptions.scopes ?? [],
        signal: exchangeOptions.signal,
        clientId,
        grant: exchangeOptions.grant,
      });
    },

    async close() {
      if (closer.signal.aborted) return;
      closer.abort(
        new TransportError("The transport was closed.", {
          code: "HOIST_TRANSPORT_CLOSED",
          operation: "close",
        }),
      );
      direct?.close();
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}

function abortError(operation: string, signal: AbortSignal): TransportError {
  return new TransportError(`${operation}: aborted.`, {
    code: "HOIST_TRANSPORT_ABORTED",
    operation,
    cause: signal.reason,
  });
}
