import { setMaxListeners } from "node:events";
import { Readable } from "node:stream";
import { isDrainable as isDrainableSource, isFillable } from "@hoist/oci";
import type { Dispatcher } from "undici";
import type { Clock } from "./clock.js";
import type { DirectAnswer, DirectPool } from "./direct/direct-pool.js";
import type { RequestDispatcher } from "./dispatcher.js";
import { type HostLimiter, unlimited } from "./host-limiter.js";
import { errorCode, isGarbledAnswer, toTransportError } from "./network-error.js";
import { parseRateLimit, type RateLimit } from "./rate-limit.js";
import { redactHeaderValue, redactUrl } from "./redact.js";
import {
  type BufferedBody,
  bufferErrorBody,
  isTemporaryAnswer,
  parseRegistryErrorBody,
} from "./registry-error-body.js";
import type { PreparedBody } from "./request-body.js";
import { emptyBody } from "./response.js";
import { ResponseHeaders } from "./response-headers.js";
import {
  backoffDelay,
  isRetryableNetworkCode,
  parseRetryAfter,
  type RetryPolicy,
} from "./retry-policy.js";
import { statusText } from "./status-text.js";

/** What every request of one transport shares. */
export interface Engine {
  readonly dispatcher: RequestDispatcher;
  /** Connections of the transport's own; absent where a proxy may apply. */
  readonly direct?: DirectPool | undefined;
  readonly clock: Clock;
  readonly retry: RetryPolicy;
  readonly limiter: HostLimiter;
  readonly userAgent: string;
  readonly debug: ((line: string) => void) | undefined;
  /** Lower-case names; sent with every request unless the request sets the same header. */
  readonly headers: Readonly<Record<string, string>>;
  readonly onResponse: ((response: ResponseInfo) => void) | undefined;
  /** Aborted when the transport closes. */
  readonly closed: AbortSignal;
}

export interface SendOptions {
  operation: string;
  method: string;
  url: URL;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body?: PreparedBody | undefined;
  signal?: AbortSignal | undefined;
  /** Whether the request may be sent more than once (idempotent and replayable). */
  retryable: boolean;
  policy?: RetryPolicy | undefined;
}

/** What `onResponse` sees of each answer: never a body, and the URL redacted. */
export interface ResponseInfo {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
}

/** One HTTP answer, after the transport's retries. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The body; for an answer known to have none (see `empty`), made when first asked for. */
  readonly body: Readable;
  /** Whether the answer is known to have no body, so `body` need not be made to drop it. */
  readonly empty: boolean;
  readonly url: URL;
  readonly method: string;
  readonly attempts: number;
  readonly elapsedMs: number;
  readonly rateLimit: RateLimit | undefined;
  /** Set when the body was read to judge a retry: its first 64 KiB. */
  readonly buffered: BufferedBody | undefined;
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new ResponseHeaders();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.append(name, value);
  }
  return headers;
}

/** Headers the direct path built already; undici's come as a record. */
function isBuilt(headers: Headers | Dispatcher.ResponseData["headers"]): headers is Headers {
  return headers instanceof ResponseHeaders;
}

function logHeaders(debug: (line: string) => void, entries: Iterable<[string, string]>): void {
  for (const [name, value] of entries) debug(`    ${name}: ${redactHeaderValue(name, value)}`);
}

/** Per transport (its `closed` signal), the signal made for each caller's signal. */
const combined = new WeakMap<AbortSignal, WeakMap<AbortSignal, AbortSignal>>();

/**
 * The signal a request listens to: the caller's and the transport's. A caller usually passes one
 * signal for a whole pull or push, so the combination is made once for it, not per request: one
 * AbortSignal.any per request cost CPU and memory, and each stayed among the closed signal's
 * dependants until a collection. Shared by every request in flight, the combination is told not
 * to warn past 10 listeners.
 */
function requestSignal(caller: AbortSignal | undefined, closed: AbortSignal): AbortSignal {
  if (caller === undefined || caller === closed) return closed;
  let byCaller = combined.get(closed);
  if (byCaller === undefined) {
    byCaller = new WeakMap();
    combined.set(closed, byCaller);
  }
  let signal = byCaller.get(caller);
  if (signal === undefined) {
    signal = AbortSignal.any([caller, closed]);
    setMaxListeners(0, signal);
    byCaller.set(caller, signal);
  }
  return signal;
}

/**
 * Sends a request on the transport's own connections when it is one they carry: one without a
 * body or with one in memory, or an upload of a known length whose body can be filled or drained
 * (FILL and DRAIN in @hoist/oci). Undefined means undici sends it (nothing of a stream body has
 * been read then).
 */
function sendDirect(
  direct: DirectPool,
  options: SendOptions,
  headers: Record<string, string>,
  body: string | Uint8Array | Readable | null,
  signal: AbortSignal,
): Promise<DirectAnswer | undefined> | undefined {
  const { method, url } = options;
  if (body === null) return direct.request({ method, url, headers }, signal);
  if (typeof body === "string") {
    return direct.request({ method, url, headers, bytes: Buffer.from(body, "utf8") }, signal);
  }
  if (!(body instanceof Readable))
    return direct.request({ method, url, headers, bytes: body }, signal);
  const length = options.body?.length;
  if (length === undefined) return undefined;
  if (!isFillable(body) && !isDrainableSource(body)) return undefined;
  return direct.request({ method, url, headers, upload: { source: body, length } }, signal);
}

/**
 * Sends one request through the dispatcher, retrying transient failures per policy. Returns
 * the final answer whatever its status; turning statuses into errors is the caller's job.
 */
export async function send(engine: Engine, options: SendOptions): Promise<RawResponse> {
  const policy = options.policy ?? engine.retry;
  const maxAttempts = options.retryable ? policy.attempts : 1;
  const signal = requestSignal(options.signal, engine.closed);
  // Only debug lines, observers and errors show the URL: most requests never need it redacted.
  let redactedUrl: string | undefined;
  const redacted = (): string => (redactedUrl ??= redactUrl(options.url));
  const started = engine.clock.now();
  const headers: Record<string, string> = {
    ...engine.headers,
    "user-agent": engine.userAgent,
    ...options.headers,
  };
  if (options.body?.length !== undefined && headers["content-length"] === undefined) {
    headers["content-length"] = String(options.body.length);
  }

  let retriedGarbled = false;
  for (let attempt = 1; ; attempt++) {
    const elapsedMs = engine.clock.now() - started;
    const context = () => ({
      operation: options.operation,
      method: options.method,
      url: redacted(),
      signal,
      attempts: attempt,
      elapsedMs,
    });
    if (signal.aborted) throw toTransportError(signal.reason, context());
    const release =
      engine.limiter.tryAcquire(options.url.host) ??
      (await engine.limiter.acquire(options.url.host, signal).catch((error: unknown) => {
        throw toTransportError(error, context());
      }));
    const attemptStart = engine.clock.now();
    if (engine.debug) {
      engine.debug(
        `--> ${options.method} ${redacted()}${attempt > 1 ? ` (attempt ${attempt}/${maxAttempts})` : ""}`,
      );
      logHeaders(engine.debug, Object.entries(headers));
    }
    let answer: {
      statusCode: number;
      headers: Headers | Dispatcher.ResponseData["headers"];
      body: Dispatcher.ResponseData["body"] | DirectAnswer["body"];
    };
    try {
      const body = options.body ? await options.body.open() : null;
      const direct = engine.direct
        ? await sendDirect(engine.direct, options, headers, body, signal)
        : undefined;
      answer =
        direct ??
        (await engine.dispatcher.request({
          origin: options.url.origin,
          path: `${options.url.pathname}${options.url.search}`,
          method: options.method as Dispatcher.HttpMethod,
          headers,
          body,
          signal,
          // undici closes a connection after every HEAD, in case a server sends a body anyway.
          // Pushes and copies HEAD every blob, so each check cost a new connection (a TLS
          // handshake against a real registry; 88 connections for a copy of 64 blobs, 28 without).
          // Keep it, as Go's and Node's clients do; a late body is retried below (isGarbledAnswer).
          ...(options.method === "HEAD" ? { reset: false } : {}),
        }));
    } catch (error) {
      release();
      const elapsed = engine.clock.now() - attemptStart;
      const code = errorCode(error);
      engine.debug?.(
        `<-- ${options.method} ${redacted()} failed: ${code ?? (error as Error).message} (${elapsed} ms)`,
      );
      const failure = toTransportError(error, {
        ...context(),
        elapsedMs: engine.clock.now() - started,
      });
      const garbled = isGarbledAnswer(error) && !retriedGarbled;
      if (signal.aborted || attempt >= maxAttempts || !(garbled || isRetryableNetworkCode(code))) {
        throw failure;
      }
      if (garbled) {
        // Once, at once: the connection is gone and a new one gets the answer (see isGarbledAnswer).
        retriedGarbled = true;
        engine.debug?.(`retrying ${options.method} ${redacted()} on a new connection`);
        continue;
      }
      const delay = backoffDelay(policy, attempt);
      engine.debug?.(`retrying ${options.method} ${redacted()} in ${delay} ms after ${code}`);
      await engine.clock.sleep(delay, { signal }).catch((reason: unknown) => {
        throw toTransportError(reason, context());
      });
      continue;
    }

    const responseHeaders = isBuilt(answer.headers) ? answer.headers : toHeaders(answer.headers);
    // Undefined: a direct answer that had no body and has ended already.
    const body = answer.body as unknown as Readable | undefined;
    // The host slot is held until the body is finished, so the cap counts real transfers.
    if (body === undefined) release();
    else if (release !== unlimited) {
      body.once("close", release);
      body.once("end", release);
      body.once("error", release);
    }
    if (options.method === "HEAD" || answer.statusCode === 204 || answer.statusCode === 304) {
      body?.resume();
    }
    if (engine.debug) {
      engine.debug(
        `<-- ${answer.statusCode} ${statusText(answer.statusCode)} ${options.method} ${redacted()} (${engine.clock.now() - attemptStart} ms)`,
      );
      logHeaders(engine.debug, responseHeaders.entries());
    }
    if (engine.onResponse) {
      // An observer's bug must not turn a good answer into a failed request.
      try {
        // The URL is redacted when the observer reads it: most look only at the headers.
        engine.onResponse({
          method: options.method,
          get url() {
            return redacted();
          },
          status: answer.statusCode,
          headers: responseHeaders,
        });
      } catch (error) {
        engine.debug?.(`onResponse threw: ${(error as Error)?.message ?? String(error)}`);
      }
    }
    const base = {
      status: answer.statusCode,
      headers: responseHeaders,
      url: options.url,
      method: options.method,
      attempts: attempt,
      rateLimit: parseRateLimit(responseHeaders),
    };
    if (!policy.statuses.includes(answer.statusCode) || maxAttempts === 1) {
      const elapsedMs = engine.clock.now() - started;
      if (body !== undefined)
        return { ...base, body, empty: false, elapsedMs, buffered: undefined };
      let made: Readable | undefined;
      return {
        ...base,
        get body() {
          made ??= emptyBody();
          return made;
        },
        empty: true,
        elapsedMs,
        buffered: undefined,
      };
    }

    // A status worth retrying: read the (small) error body to see whether the registry agrees.
    const buffered = await bufferErrorBody(
      body ?? emptyBody(),
      () => ({ method: options.method, url: redacted() }),
      signal,
    );
    const replay = () => Readable.from(buffered.bytes.length ? [buffered.bytes] : []);
    const diagnostics = parseRegistryErrorBody(buffered.bytes.toString("utf8"));
    const retryAfter = parseRetryAfter(responseHeaders.get("retry-after"), engine.clock.now());
    const temporary = isTemporaryAnswer(answer.statusCode, diagnostics, policy);
    const tooLong = retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs;
    if (!temporary || attempt >= maxAttempts || tooLong) {
      if (tooLong) {
        engine.debug?.(
          `not retrying ${options.method} ${redacted()}: Retry-After ${retryAfter} ms exceeds ${policy.maxRetryAfterMs} ms`,
        );
      }
      return {
        ...base,
        body: replay(),
        empty: false,
        elapsedMs: engine.clock.now() - started,
        buffered,
      };
    }
    const delay = retryAfter ?? backoffDelay(policy, attempt);
    engine.debug?.(
      `retrying ${options.method} ${redacted()} in ${delay} ms after ${answer.statusCode}${retryAfter !== undefined ? " (Retry-After)" : ""}`,
    );
    await engine.clock.sleep(delay, { signal }).catch((reason: unknown) => {
      throw toTransportError(reason, context());
    });
  }
}
