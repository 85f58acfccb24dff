// A keep-alive HTTP/1.1 connection whose socket reads every chunk into one buffer of its own
// (net's and tls's `onread`), instead of a new Buffer per read as every Readable socket does.
// The response's body is handed on synchronously, a view at a time, before the socket reads
// again: what a blob download costs in page faults and reads is then the consumer's choice.
import { connect as netConnect, type Socket } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { ChunkedDecoder } from "./chunked.js";
import {
  DEFAULT_HEAD_LIMITS,
  type Framing,
  framing,
  type HeadLimits,
  parseResponseHead,
  type ResponseHead,
} from "./response-head.js";

/** Bytes each connection reads at most at once, into the same buffer every time. */
export const READ_BUFFER_BYTES = 256 * 1024;

/** An error with the code undici would have given, so the transport's retries treat it alike. */
export class DirectSocketError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DirectSocketError";
    this.code = code;
  }
}

/** What one exchange on a connection is told, always synchronously from a socket read. */
export interface ExchangeHandlers {
  /** The response's head, and how its body is delimited. */
  onHead(head: ResponseHead, framing: Framing): void;
  /** A view of body bytes, valid only during the call; false stops reading until `resume()`. */
  onBody(view: Uint8Array): boolean;
  /** The body's last byte has been delivered. */
  onEnd(): void;
  onError(error: Error): void;
}

export interface ConnectOptions {
  readonly url: URL;
  /** TLS settings for https: origins (host, port and servername are set here). */
  readonly tls?: ConnectionOptions | undefined;
  readonly connectTimeoutMs: number;
  readonly headLimits?: HeadLimits | undefined;
}

export class DirectConnection {
  readonly origin: string;
  readonly socket: Socket;
  readonly #headLimits: HeadLimits;
  #handlers: ExchangeHandlers | undefined;
  /** The start of a head that has not fully arrived yet. */
  #head: Buffer[] = [];
  /** Body bytes still to come; -1 while the head is being read. */
  #remaining = -1;
  /** Set for a chunked body, which ends where the coding says. */
  #chunked: ChunkedDecoder | undefined;
  #reusable = true;
  #used = false;
  /** Whether the request is not sent again: its answer is read even where a GET's is not. */
  #oneShot = false;
  /** Whether the answer has no body whatever its head says (the answer to a HEAD). */
  #bodiless = false;
  /** Set for a body that ends where the connection does. */
  #untilClose = false;

  private constructor(origin: string, socket: Socket, headLimits: HeadLimits) {
    this.origin = origin;
    this.socket = socket;
    this.#headLimits = headLimits;
    socket.on("error", (error) => this.#fail(error));
    socket.on("close", () => {
      const handlers = this.#handlers;
      if (this.#untilClose && handlers !== undefined) {
        this.#handlers = undefined;
        handlers.onEnd();
        return;
      }
      this.#fail(new DirectSocketError("the registry closed the connection", "UND_ERR_SOCKET"));
    });
  }

  /** Opens a connection to `options.url`'s origin, resolving once it can carry a request. */
  static open(options: ConnectOptions, signal?: AbortSignal): Promise<DirectConnection> {
    const { url } = options;
    const secure = url.protocol === "https:";
    const port = Number(url.port || (secure ? 443 : 80));
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    let connection: DirectConnection | undefined;
    const onread = {
      buffer: Buffer.allocUnsafeSlow(READ_BUFFER_BYTES),
      callback: (bytes: number, buffer: Uint8Array) =>
        connection === undefined ? true : connection.#onRead(buffer.subarray(0, bytes)),
    };
    const socket = secure
      ? // tls.connect passes onread on to its socket (Node's _tls_wrap); @types/node omits it.
        // node:tls is loaded on the first TLS connection: a command against a local http
        // registry never makes one (see asksHttpFirst in ping.ts), and loading it cost ~3 ms.
        process.getBuiltinModule("node:tls").connect({
          ...options.tls,
          host,
          port,
          ...(isIp(host) ? {} : { servername: host }),
          ALPNProtocols: ["http/1.1"],
          onread,
        } as ConnectionOptions)
      : netConnect({ host, port, onread });
    connection = new DirectConnection(
      url.origin,
      socket,
      options.headLimits ?? DEFAULT_HEAD_LIMITS,
    );
    socket.setNoDelay(true);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        fail(
          new DirectSocketError(`connecting to ${url.host} timed out`, "UND_ERR_CONNECT_TIMEOUT"),
        );
      }, options.connectTimeoutMs);
      const onAbort = () => fail(signal?.reason as Error);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        socket.off("error", fail);
      };
      const fail = (error: Error) => {
        done();
        socket.destroy();
        reject(error);
      };
      socket.once("error", fail);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) return onAbort();
      socket.once(secure ? "secureConnect" : "connect", () => {
        done();
        resolve(connection as DirectConnection);
      });
    });
  }

  /** Whether the connection can carry another exchange. */
  get reusable(): boolean {
    return this.#reusable && this.#handlers === undefined && !this.socket.destroyed;
  }

  /** Whether an exchange has been sent on it before. */
  get used(): boolean {
    return this.#used;
  }

  /**
   * Sends a request head (with a body held in memory after it) and reports the response to
   * `handlers`. An upload's body is the caller's to write on `socket`. The answer to a one-shot
   * request (one not sent again) may be interim (skipped) or end with the connection, which a
   * GET's may not (it reports those as unsupported). A bodiless answer (to a HEAD) ends with
   * its head.
   */
  send(
    requestHead: string,
    handlers: ExchangeHandlers,
    options: { body?: Uint8Array | undefined; oneShot?: boolean; bodiless?: boolean } = {},
  ): void {
    if (!this.reusable) throw new Error("the connection is busy or closed");
    this.#handlers = handlers;
    this.#head = [];
    this.#remaining = -1;
    this.#chunked = undefined;
    this.#used = true;
    this.#oneShot = options.oneShot === true;
    this.#bodiless = options.bodiless === true;
    this.#untilClose = false;
    const body = options.body;
    if (body === undefined || body.length === 0) {
      this.socket.write(requestHead, "latin1");
      return;
    }
    // One write of both (writev), without copying the body next to the head.
    this.socket.cork();
    this.socket.write(requestHead, "latin1");
    this.socket.write(body);
    this.socket.uncork();
  }

  /** Starts reading again after `onBody` returned false. */
  resume(): void {
    if (!this.socket.destroyed) this.socket.resume();
  }

  close(): void {
    this.#reusable = false;
    this.socket.destroy();
  }

  #fail(error: Error): void {
    this.#reusable = false;
    const handlers = this.#handlers;
    this.#handlers = undefined;
    handlers?.onError(error);
  }

  #onRead(view: Uint8Array): boolean {
    const handlers = this.#handlers;
    if (handlers === undefined) {
      // Bytes nobody asked for: the connection cannot be trusted with another request.
      this.close();
      return false;
    }
    let body = view;
    if (this.#remaining < 0) {
      // A head that came whole in one read is parsed where it is; only a partial one is kept.
      const bytes: Uint8Array =
        this.#head.length === 0 ? view : Buffer.concat([...this.#head, view]);
      const parsed = parseResponseHead(bytes, this.#headLimits);
      if (parsed.kind === "incomplete") {
        this.#head = [Buffer.from(bytes)];
        return true;
      }
      if (parsed.kind === "invalid") {
        this.#fail(new DirectSocketError(parsed.reason, "HPE_INVALID_HEAD"));
        this.close();
        return false;
      }
      const frame = this.#readable(framing(parsed.head), parsed.head.status);
      if (frame.kind === "interim") {
        // What follows an interim answer is the answer.
        this.#head = [];
        const rest = bytes.subarray(parsed.head.length);
        return rest.length > 0 ? this.#onRead(rest) : true;
      }
      if (frame.kind === "close") {
        this.#untilClose = true;
        this.#reusable = false;
      }
      this.#remaining =
        frame.kind === "length"
          ? frame.length
          : frame.kind === "close"
            ? Number.POSITIVE_INFINITY
            : 0;
      if (frame.kind === "chunked") this.#chunked = new ChunkedDecoder();
      if (frame.kind === "unsupported") this.#reusable = false;
      if (!keepsAlive(parsed.head)) this.#reusable = false;
      handlers.onHead(parsed.head, frame);
      if (frame.kind === "unsupported") {
        this.#handlers = undefined;
        this.close();
        return false;
      }
      body = bytes.subarray(parsed.head.length);
      this.#head = [];
    }
    if (this.#chunked !== undefined) return this.#onChunked(body, handlers);
    if (body.length > this.#remaining) {
      // More than the stated length: deliver what belongs to the body, then stop using the
      // connection, since what follows is not an answer to anything.
      body = body.subarray(0, this.#remaining);
      this.#reusable = false;
    }
    this.#remaining -= body.length;
    let reading = true;
    if (body.length > 0) reading = handlers.onBody(body);
    if (this.#remaining === 0 && this.#handlers === handlers) {
      this.#handlers = undefined;
      handlers.onEnd();
      if (!this.#reusable) this.socket.destroy();
      // An idle connection keeps reading, so that a close or stray bytes are noticed.
      return true;
    }
    return reading;
  }

  /**
   * The framing as this exchange reads it: a GET leaves interim answers and close to undici,
   * and an answer to a HEAD has no body.
   */
  #readable(frame: Framing, status: number): Framing {
    if (frame.kind === "interim" && (!this.#oneShot || status === 101)) {
      return { kind: "unsupported", reason: `an interim answer (${status})` };
    }
    if (this.#bodiless && frame.kind !== "interim") return { kind: "none" };
    if (frame.kind === "close" && !this.#oneShot) {
      return { kind: "unsupported", reason: "no Content-Length" };
    }
    return frame;
  }

  #onChunked(body: Uint8Array, handlers: ExchangeHandlers): boolean {
    const decoder = this.#chunked as ChunkedDecoder;
    let reading = true;
    let used: number;
    try {
      used = decoder.take(body, (view) => {
        if (view.length > 0 && !handlers.onBody(view)) reading = false;
      });
    } catch (error) {
      this.#fail(error as Error);
      this.close();
      return false;
    }
    if (!decoder.done || this.#handlers !== handlers) return reading;
    if (used < body.length) this.#reusable = false;
    this.#handlers = undefined;
    handlers.onEnd();
    if (!this.#reusable) this.socket.destroy();
    return true;
  }
}

/**
 * Whether the server keeps the connection open after this answer: HTTP/1.1 unless it says
 * `Connection: close`; HTTP/1.0 only if it says `Connection: keep-alive`.
 */
function keepsAlive(head: ResponseHead): boolean {
  let close = false;
  let keepAlive = false;
  const fields = head.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as readonly [string, string];
    if (field[0] !== "connection") continue;
    const tokens = field[1].toLowerCase().split(",");
    for (let j = 0; j < tokens.length; j++) {
      const token = (tokens[j] as string).trim();
      if (token === "close") close = true;
      else if (token === "keep-alive") keepAlive = true;
    }
  }
  if (close) return false;
  return head.version === "1.1" || keepAlive;
}

function isIp(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(":");
}
