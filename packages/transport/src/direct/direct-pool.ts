// Requests on connections of the transport's own (connection.ts): requests without a body or
// with one held in memory, and uploads whose body can be filled into reused buffers
// (upload-body.ts). The answer to a GET or HEAD framed by anything but a stated length, the
// chunked coding or no body at all, or whose head does not parse strictly, is not read here:
// the caller asks undici instead, so the direct path only ever carries the plainest answers.
// Any other request is not sent twice (an upload's body is spent once read; a POST may act
// twice), so its answer is read here whatever its framing: answers that end with the
// connection are read, interim ones skipped.
import type { Readable } from "node:stream";
import type { ConnectionOptions } from "node:tls";
import type { Drainable, Fillable } from "@hoist/oci";
import { ResponseHeaders } from "../response-headers.js";
import { DirectBody } from "./body.js";
import { DirectConnection, DirectSocketError } from "./connection.js";
import type { Framing, ResponseHead } from "./response-head.js";
import { pumpBody, UploadBuffers } from "./upload-body.js";

export interface DirectPoolOptions {
  /** TLS settings for https: origins, asked for at the first such connection. */
  readonly tls?: (() => ConnectionOptions) | undefined;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Idle connections kept per origin. */
  readonly maxIdlePerOrigin: number;
}

export interface DirectAnswer {
  readonly statusCode: number;
  // A ResponseHeaders, typed as what it implements: that class is internal to the package.
  readonly headers: Headers;
  /** Undefined when the answer has no body (a HEAD's, a stated length of 0, a 204 or 304). */
  readonly body: DirectBody | undefined;
}

/** One request for the direct path. */
export interface DirectRequest {
  readonly method: string;
  readonly url: URL;
  /** Lower-case names; an upload's include its content-length. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * An upload's body: `length` bytes filled or drained from `source`, which is destroyed
   * afterwards. Its failures come through the request's promise, not as stream errors.
   */
  readonly upload?:
    | { readonly source: Readable & (Fillable | Drainable); readonly length: number }
    | undefined;
  /** A body held in memory, sent with the head; `headers` give its content-length. */
  readonly bytes?: Uint8Array | undefined;
}

/** Methods whose answer undici may be asked for instead, by sending the request again. */
const ASKED_AGAIN = new Set(["GET", "HEAD"]);
/** Methods that may be sent again on a new connection when a kept one fails before answering. */
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
/** Methods whose requests carry a body, so an empty one is announced (as undici does). */
const EXPECTS_BODY = new Set(["POST", "PUT", "PATCH"]);

const FORBIDDEN_IN_HEADERS = /[\r\n\0]/;
const INVALID_HEAD = "HPE_INVALID_HEAD";
const BODY_TIMEOUT = "UND_ERR_BODY_TIMEOUT";
/** An answer to an upload framed in a way no client should read (both framings, say). */
const UNREADABLE_ANSWER = "HPE_UNEXPECTED_CONTENT_LENGTH";

/** Keep-alive connections per origin, each reading into its own reused buffer. */
export class DirectPool {
  readonly #options: DirectPoolOptions;
  readonly #idle = new Map<
    string,
    Array<{ connection: DirectConnection; timer: NodeJS.Timeout }>
  >();
  readonly #buffers = new UploadBuffers();
  #closed = false;

  constructor(options: DirectPoolOptions) {
    this.#options = options;
  }

  /**
   * Sends a request and resolves with its answer once the head is in. Resolves with undefined,
   * before anything is sent or read of an upload's body, when the direct path cannot send the
   * request as it is, and for a GET whose answer it does not read: the caller then asks undici.
   */
  async request(request: DirectRequest, signal: AbortSignal): Promise<DirectAnswer | undefined> {
    const { url, upload, method } = request;
    const exchange = exchangeOf(request);
    if (exchange === undefined) return undefined;
    upload?.source.on("error", () => {});
    try {
      const reused = this.#takeIdle(url.origin);
      if (reused !== undefined) {
        try {
          return await this.#exchange(reused, exchange, upload, signal);
        } catch (error) {
          // A kept connection the registry had closed fails before any answer: an idempotent
          // request is sent again on a new one, as undici does. An upload's body is spent.
          const again = IDEMPOTENT.has(method) && upload === undefined;
          if (signal.aborted || !again || !(error instanceof FirstByteError)) throw error;
        }
      }
      const tls = url.protocol === "https:" ? this.#options.tls?.() : undefined;
      const connection = await DirectConnection.open(
        { url, tls, connectTimeoutMs: this.#options.connectTimeoutMs },
        signal,
      );
      return await this.#exchange(connection, exchange, upload, signal);
    } catch (error) {
      if (upload && !upload.source.destroyed) upload.source.destroy();
      throw unwrap(error);
    }
  }

  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) {
      for (const { connection, timer } of list) {
        clearTimeout(timer);
        connection.close();
      }
    }
    this.#idle.clear();
  }

  #takeIdle(origin: string): DirectConnection | undefined {
    const list = this.#idle.get(origin);
    while (list && list.length > 0) {
      const entry = list.pop() as { connection: DirectConnection; timer: NodeJS.Timeout };
      clearTimeout(entry.timer);
      if (entry.connection.reusable) {
        entry.connection.socket.ref();
        return entry.connection;
      }
      entry.connection.close();
    }
    return undefined;
  }

  #release(connection: DirectConnection): void {
    if (this.#closed || !connection.reusable) {
      connection.close();
      return;
    }
    const list = this.#idle.get(connection.origin) ?? [];
    if (list.length >= this.#options.maxIdlePerOrigin) {
      connection.close();
      return;
    }
    const entry = {
      connection,
      timer: setTimeout(() => {
        const at = list.indexOf(entry);
        if (at >= 0) list.splice(at, 1);
        connection.close();
      }, this.#options.keepAliveTimeoutMs),
    };
    entry.timer.unref();
    // An idle connection does not keep the process alive, as undici's do not.
    connection.socket.unref();
    list.push(entry);
    this.#idle.set(connection.origin, list);
  }

  #exchange(
    connection: DirectConnection,
    exchange: Exchange,
    upload: DirectRequest["upload"],
    signal: AbortSignal,
  ): Promise<DirectAnswer | undefined> {
    const options = this.#options;
    return new Promise((resolve, reject) => {
      let body: DirectBody | undefined;
      let answered = false;
      let failed = false;
      /** Whether the whole upload body has been queued on the socket. */
      let sent = upload === undefined;
      let timer: NodeJS.Timeout | undefined;
      let armedFor: string | undefined;
      /**
       * Whether the body's reader is behind (or nobody reads it yet) and the socket waits for it.
       * The registry is not silent then, the reader is: as in undici, the body timeout does not
       * fire meanwhile, and starts over when reading does.
       */
      let held = false;
      // Re-armed for every read and every write: the same timeout is pushed back (refresh), not
      // replaced, so a 256 MiB transfer does not make two thousand timers to collect.
      const arm = (ms: number, message: string, code: string) => {
        if (timer !== undefined && armedFor === code) {
          timer.refresh();
          return;
        }
        clearTimeout(timer);
        armedFor = code;
        timer = setTimeout(() => {
          if (held && code === BODY_TIMEOUT) return;
          const error = new DirectSocketError(message, code);
          connection.close();
          fail(error);
        }, ms);
      };
      const onAbort = () => {
        connection.close();
        fail(signal.reason as Error);
      };
      const cleanup = () => {
        clearTimeout(timer);
        timer = undefined;
        signal.removeEventListener("abort", onAbort);
      };
      const fail = (error: Error) => {
        failed = true;
        cleanup();
        if (body !== undefined) body.fail(error);
        else if (answered) return;
        // A head the direct path will not read is undici's to judge, on its own connection; a
        // request that is not sent twice has its answer judged here.
        else if ((error as { code?: unknown }).code === INVALID_HEAD && !exchange.oneShot) {
          resolve(undefined);
        } else reject(new FirstByteError(error));
      };
      const armBody = () =>
        arm(options.bodyTimeoutMs, "the registry stopped sending the body", BODY_TIMEOUT);
      const waitForAnswer = () =>
        arm(
          options.headersTimeoutMs,
          "the registry sent no answer in time",
          "UND_ERR_HEADERS_TIMEOUT",
        );
      signal.addEventListener("abort", onAbort, { once: true });
      waitForAnswer();
      connection.send(
        exchange.head,
        {
          onHead: (response: ResponseHead, frame: Framing) => {
            answered = true;
            if (frame.kind === "unsupported") {
              cleanup();
              if (!exchange.oneShot) resolve(undefined);
              else {
                reject(
                  new DirectSocketError(
                    `the registry's answer to the ${exchange.method} cannot be read: ${frame.reason}`,
                    UNREADABLE_ANSWER,
                  ),
                );
              }
              return;
            }
            const headers = ResponseHeaders.fromCheckedFields(response.fields);
            if (frame.kind === "none" || (frame.kind === "length" && frame.length === 0)) {
              // Ends with its head (onEnd comes next, in this same read): no stream to make.
              resolve({ statusCode: response.status, headers, body: undefined });
              return;
            }
            body = new DirectBody({
              resume: () => {
                if (held) {
                  held = false;
                  armBody();
                }
                connection.resume();
              },
              abandon: () => connection.close(),
            });
            armBody();
            resolve({ statusCode: response.status, headers, body });
          },
          onBody: (view) => {
            armBody();
            const more = (body as DirectBody).deliver(view);
            if (!more) held = true;
            return more;
          },
          onEnd: () => {
            cleanup();
            body?.finish();
            // An answer that came before the whole body was sent leaves the connection mid-request.
            if (sent) this.#release(connection);
            else connection.close();
          },
          onError: (error) => fail(error),
        },
        {
          body: exchange.body,
          oneShot: exchange.oneShot,
          bodiless: exchange.method === "HEAD",
        },
      );
      if (upload === undefined) return;
      // While the body goes out, the timer is the headers timeout, re-armed as the socket takes
      // bytes: a registry that takes none and answers nothing in time fails the request.
      pumpBody({
        socket: connection.socket,
        source: upload.source,
        length: upload.length,
        buffers: this.#buffers,
        stopped: () => answered || failed,
        onProgress: () => {
          if (!answered && !failed) waitForAnswer();
        },
      }).then(
        (whole) => {
          sent = whole;
          if (!upload.source.destroyed) upload.source.destroy();
        },
        (error: unknown) => {
          connection.close();
          fail(error as Error);
        },
      );
    });
  }
}

/** A failure before the first byte of an answer; on a reused connection, worth one retry. */
class FirstByteError extends Error {
  constructor(readonly failure: Error) {
    super(failure.message);
  }
}

function unwrap(error: unknown): unknown {
  return error instanceof FirstByteError ? error.failure : error;
}

/** What goes out on the connection for one request. */
interface Exchange {
  readonly method: string;
  readonly head: string;
  /** A body held in memory, sent with the head. */
  readonly body: Uint8Array | undefined;
  /** Whether the request is not sent again, so its answer is read whatever its framing. */
  readonly oneShot: boolean;
}

/**
 * The request's head (and in-memory body), or undefined when the direct path does not send it
 * as it is: a header it could not send, or a body whose stated length is not its own.
 */
function exchangeOf(request: DirectRequest): Exchange | undefined {
  const { method, url, headers, upload, bytes } = request;
  if (!/^[A-Z]+$/.test(method)) return undefined;
  const length = headers["content-length"];
  if (bytes !== undefined && length !== String(bytes.length)) return undefined;
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) {
    if (name === "host") continue;
    if (FORBIDDEN_IN_HEADERS.test(name) || FORBIDDEN_IN_HEADERS.test(value)) return undefined;
    lines.push(`${name}: ${value}`);
  }
  // Some servers refuse a POST or PUT that announces no body at all (411 Length Required).
  if (length === undefined && upload === undefined && EXPECTS_BODY.has(method)) {
    lines.push("content-length: 0");
  }
  return {
    method,
    head: `${lines.join("\r\n")}\r\n\r\n`,
    body: bytes,
    oneShot: upload !== undefined || !ASKED_AGAIN.has(method),
  };
}
