import { Registry } from "@hoist/name";
import { type Challenge, parseChallenges, preferredChallenge } from "./challenge.js";
import { TransportError } from "./errors.js";
import type { RateLimit } from "./rate-limit.js";
import { redactUrl } from "./redact.js";
import { bufferErrorBody, buildRegistryError } from "./registry-error-body.js";
import { drain } from "./response.js";
import { type Engine, send } from "./send.js";
import { statusText } from "./status-text.js";
import { checkTarget, classifyHost } from "./target-safety.js";

/** The registry side of @hoist/name's `Registry`, structurally. */
export interface RegistryLike {
  /** "host[:port]", e.g. "index.docker.io" or "127.0.0.1:5000". */
  readonly host: string;
  /** "http" only for registries that may be reached without TLS (insecure, loopback, RFC 1918). */
  readonly scheme: "https" | "http";
  toString(): string;
}

/** What `GET /v2/` taught us about a registry. */
export interface PingResult {
  readonly host: string;
  /** The scheme that answered. */
  readonly scheme: "https" | "http";
  /** "scheme://host[:port]", the origin every API request goes to. */
  readonly origin: string;
  /** 200 (no auth needed for /v2/) or 401 (a challenge follows). */
  readonly status: number;
  /** Every challenge the registry sent. */
  readonly challenges: readonly Challenge[];
  /** The one to answer: Bearer or Basic first. Undefined when /v2/ needs no auth. */
  readonly challenge: Challenge | undefined;
  readonly rateLimit: RateLimit | undefined;
}

/** How long the first scheme gets on its own before the other is tried too (go-containerregistry's value). */
export const HTTP_FALLBACK_DELAY_MS = 300;
const MAX_PING_REDIRECTS = 5;

/** A registry as callers may name it: a parsed one, or a "host[:port]" string. */
export type RegistryInput = RegistryLike | string;

/** Parses a string with @hoist/name (so loopback and RFC 1918 hosts may use http) and checks the rest. */
export function toRegistry(input: RegistryInput, operation: string): RegistryLike {
  if (typeof input === "string") {
    try {
      return Registry.parse(input);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new TransportError(`"${input.slice(0, 200)}" is not a registry host: ${why}`, {
        code: "HOIST_TRANSPORT_INVALID_OPTIONS",
        operation,
        cause,
      });
    }
  }
  checkRegistry(input, operation);
  return input;
}

export function checkRegistry(registry: RegistryLike, operation: string): void {
  const valid =
    registry &&
    typeof registry.host === "string" &&
    registry.host.length > 0 &&
    (registry.scheme === "https" || registry.scheme === "http");
  let url: URL | undefined;
  if (valid) {
    try {
      url = new URL(`${registry.scheme}://${registry.host}/`);
    } catch {
      url = undefined;
    }
  }
  if (!valid || !url || /[/?#@\s\\]/.test(registry.host) || url.pathname !== "/") {
    const shown =
      typeof registry?.host === "string" ? registry.host.slice(0, 200) : String(registry);
    throw new TransportError(
      `"${shown}" is not a registry: pass a Registry from @hoist/name (or { host: "host[:port]", scheme: "https" | "http" }).`,
      { code: "HOIST_TRANSPORT_INVALID_OPTIONS", operation },
    );
  }
}

async function pingScheme(
  engine: Engine,
  registry: RegistryLike,
  scheme: "https" | "http",
  signal: AbortSignal | undefined,
): Promise<PingResult> {
  const start = new URL(`${scheme}://${registry.host}/v2/`);
  let url = start;
  for (let hop = 0; ; hop++) {
    const response = await send(engine, {
      operation: "ping",
      method: "GET",
      url,
      headers: {},
      signal,
      retryable: true,
    });
    const location = response.headers.get("location");
    if (
      [301, 302, 303, 307, 308].includes(response.status) &&
      location &&
      hop < MAX_PING_REDIRECTS
    ) {
      await drain(response.body);
      const next = new URL(location, url);
      checkTarget(next, start, "ping");
      url = next;
      continue;
    }
    if (response.status === 200 || response.status === 401) {
      await drain(response.body);
      const header = response.headers.get("www-authenticate");
      const challenges = response.status === 401 && header ? parseChallenges(header) : [];
      // A registry that redirects http to https on its own host taught us its real scheme.
      const learned =
        url.hostname === start.hostname
          ? (url.protocol.replace(":", "") as "https" | "http")
          : scheme;
      const origin =
        learned === scheme ? start.origin : new URL(`${learned}://${registry.host}`).origin;
      return {
        host: registry.host,
        scheme: learned,
        origin,
        status: response.status,
        challenges,
        challenge: preferredChallenge(challenges),
        rateLimit: response.rateLimit,
      };
    }
    const body = await bufferErrorBody(
      response.body,
      () => ({ method: "GET", url: redactUrl(url) }),
      signal,
    );
    throw buildRegistryError({
      operation: "ping",
      method: "GET",
      url: redactUrl(url),
      status: response.status,
      statusText: statusText(response.status),
      headers: response.headers,
      body,
      policy: engine.retry,
      now: engine.clock.now(),
      attempts: response.attempts,
      elapsedMs: response.elapsedMs,
      hint:
        response.status === 404
          ? `${registry.host} does not serve the registry API at /v2/; check the address`
          : undefined,
    });
  }
}

/**
 * Whether plain http is asked before https: only for a loopback registry named with its port,
 * where both schemes reach the same port on this machine. A port that answers /v2/ in plain
 * http does not speak TLS (a TLS server answers plain http with a 400 or a close), so https
 * would only fail after it, and setting up TLS to find that out cost a local pull 5-6 ms
 * (loading node:tls included). A loopback TLS registry still gets https: its 400 to the http
 * request is a failure, and https follows at once.
 */
export function asksHttpFirst(registry: RegistryLike): boolean {
  if (registry.scheme !== "http") return false;
  try {
    const http = new URL(`http://${registry.host}/`);
    const https = new URL(`https://${registry.host}/`);
    return (
      http.port !== "" && http.port === https.port && classifyHost(http.hostname) === "loopback"
    );
  } catch {
    return false;
  }
}

/**
 * `GET /v2/` on a registry: learns the scheme and the auth challenge. Registries that must use
 * https get only https. Registries allowed plain http (insecure, loopback, private) get https
 * first and http once https failed or after 300 ms, whichever comes first; the first answer
 * wins. A loopback registry named with its port gets the two the other way round (see
 * {@link asksHttpFirst}).
 */
export async function ping(
  engine: Engine,
  input: RegistryInput,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<PingResult> {
  const registry = toRegistry(input, "ping");
  if (registry.scheme === "https") return pingScheme(engine, registry, "https", options.signal);

  const [first, second]: ["https" | "http", "https" | "http"] = asksHttpFirst(registry)
    ? ["http", "https"]
    : ["https", "http"];
  const losers = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, losers.signal]) : losers.signal;
  const failures: Array<{ scheme: string; error: unknown }> = [];
  let firstFailed: () => void = () => {};
  const firstDone = new Promise<void>((resolve) => {
    firstFailed = resolve;
  });

  const attempt = (scheme: "https" | "http") =>
    pingScheme(engine, registry, scheme, signal).catch((error: unknown) => {
      failures.push({ scheme, error });
      if (scheme === first) firstFailed();
      throw error;
    });

  const firstAttempt = attempt(first);
  const secondAttempt = (async () => {
    const head = new AbortController();
    await Promise.race([
      firstDone,
      engine.clock
        .sleep(HTTP_FALLBACK_DELAY_MS, { signal: AbortSignal.any([signal, head.signal]) })
        .catch(() => {}),
    ]);
    head.abort();
    if (signal.aborted) throw signal.reason;
    return attempt(second);
  })();

  try {
    const winner = await Promise.any([firstAttempt, secondAttempt]);
    losers.abort(new Error("another scheme answered first"));
    return winner;
  } catch {
    if (options.signal?.aborted) {
      const first = failures[0]?.error;
      if (TransportError.is(first) && first.code === "HOIST_TRANSPORT_ABORTED") throw first;
      throw new TransportError(`ping ${registry.host}: aborted.`, {
        code: "HOIST_TRANSPORT_ABORTED",
        operation: "ping",
        cause: options.signal.reason,
      });
    }
    // A registry error (a real answer) says more than "TLS failed on the other scheme".
    const answered = failures.find(
      (f) => TransportError.is(f.error) && f.error.code === "HOIST_TRANSPORT_REGISTRY_ERROR",
    );
    if (answered) throw answered.error;
    const detail = failures
      .sort((a, b) => (a.scheme === "https" ? -1 : b.scheme === "https" ? 1 : 0))
      .map((f) => `${f.scheme}: ${f.error instanceof Error ? f.error.message : String(f.error)}`)
      .join("; ");
    throw new TransportError(
      `Could not reach registry ${registry.host} over https or http: ${detail}`,
      {
        code: "HOIST_TRANSPORT_PING_FAILED",
        operation: "ping",
        cause: new AggregateError(failures.map((f) => f.error)),
      },
    );
  } finally {
    // Let the losing attempt settle quietly.
    firstAttempt.catch(() => {});
    secondAttempt.catch(() => {});
  }
}
