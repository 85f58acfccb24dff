// GETs on connections of the transport's own (connection.ts), for blob bodies. A response framed
// by anything but a stated length, the chunked coding or no body at all, or whose head does not
// parse strictly, is not read here: the caller asks undici instead, so the direct path only
// ever carries the plainest answers.
import type { ConnectionOptions } from "node:tls";
import { DirectBody } from "./body.js";
import { DirectConnection, DirectSocketError } from "./connection.js";
import type { Framing, ResponseHead } from "./response-head.js";

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
  readonly headers: Record<string, string | string[]>;
  readonly body: DirectBody;
}

const FORBIDDEN_IN_HEADERS = /[\r\n\0]/;
const INVALID_HEAD = "HPE_INVALID_HEAD";

/** Keep-alive connections per origin, each reading into its own reused buffer. */
export class DirectPool {
  readonly #options: DirectPoolOptions;
  readonly #idle = new Map<
    string,
    Array<{ connection: DirectConnection; timer: NodeJS.Timeout }>
  >();
  #closed = false;

  constructor(options: DirectPoolOptions) {
    this.#options = options;
  }

  /**
   * Sends a GET for `url` and resolves with its answer once the head is in, or with undefined
   * when the answer is not one the direct path reads (the caller then asks undici).
   */
  async get(
    url: URL,
    headers: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<DirectAnswer | undefined> {
    const head = requestHead(url, headers);
    if (head === undefined) return undefined;
    const reused = this.#takeIdle(url.origin);
    if (reused !== undefined) {
      try {
        return await this.#exchange(reused, head, signal);
      } catch (error) {
        // A kept connection the registry had closed fails before any answer: ask again on a
        // new one, as undici does for an idempotent request.
        if (signal.aborted || !(error instanceof FirstByteError)) throw unwrap(error);
      }
    }
    const tls = url.protocol === "https:" ? this.#options.tls?.() : undefined;
    const connection = await DirectConnection.open(
      { url, tls, connectTimeoutMs: this.#options.connectTimeoutMs },
      signal,
    );
    return this.#exchange(connection, head, signal).catch((error: unknown) => {
      throw unwrap(error);
    });
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
    head: string,
    signal: AbortSignal,
  ): Promise<DirectAnswer | undefined> {
    const options = this.#options;
    return new Promise((resolve, reject) => {
      let body: DirectBody | undefined;
      let answered = false;
      let timer: NodeJS.Timeout | undefined;
      const arm = (ms: number, message: string, code: string) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
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
        signal.removeEventListener("abort", onAbort);
      };
      const fail = (error: Error) => {
        cleanup();
        if (body !== undefined) body.fail(error);
        else if (answered) return;
        // A head the direct path will not read is undici's to judge, on its own connection.
        else if ((error as { code?: unknown }).code === INVALID_HEAD) resolve(undefined);
        else reject(new FirstByteError(error));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      arm(
        options.headersTimeoutMs,
        "the registry sent no answer in time",
        "UND_ERR_HEADERS_TIMEOUT",
      );
      connection.send(head, {
        onHead: (response: ResponseHead, frame: Framing) => {
          answered = true;
          if (frame.kind === "unsupported") {
            cleanup();
            resolve(undefined);
            return;
          }
          body = new DirectBody({
            resume: () => connection.resume(),
            abandon: () => connection.close(),
          });
          arm(
            options.bodyTimeoutMs,
            "the registry stopped sending the body",
            "UND_ERR_BODY_TIMEOUT",
          );
          resolve({ statusCode: response.status, headers: toHeaders(response), body });
        },
        onBody: (view) => {
          arm(
            options.bodyTimeoutMs,
            "the registry stopped sending the body",
            "UND_ERR_BODY_TIMEOUT",
          );
          return (body as DirectBody).deliver(view);
        },
        onEnd: () => {
          cleanup();
          (body as DirectBody).finish();
          this.#release(connection);
        },
        onError: (error) => fail(error),
      });
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

/** The request head, or undefined when a header could not be sent as it is. */
function requestHead(url: URL, headers: Readonly<Record<string, string>>): string | undefined {
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) {
    if (name === "host") continue;
    if (FORBIDDEN_IN_HEADERS.test(name) || FORBIDDEN_IN_HEADERS.test(value)) return undefined;
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join("\r\n")}\r\n\r\n`;
}

function toHeaders(head: ResponseHead): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of head.fields) {
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = [existing, value];
  }
  return headers;
}
