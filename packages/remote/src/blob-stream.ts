import { Readable } from "node:stream";
import { DRAIN, type Drainable, type DrainSink, SizeMismatchError } from "@hoist/oci";
import { isDrainable, type TransportResponse } from "@hoist/transport";
import { RemoteError } from "./errors.js";
import { translateError } from "./translate-error.js";

export interface ResumableBodyOptions {
  /** The first response, already accepted (200). */
  first: TransportResponse;
  /** Re-opens the blob from `offset` (sending `Range: bytes=<offset>-`). */
  open: (offset: number) => Promise<TransportResponse>;
  /** The size the blob must have, when known. */
  size: number | undefined;
  signal: AbortSignal | undefined;
  /** "download blob", for error messages. */
  operation: string;
  reference: string;
  /** Resumes allowed without any byte of progress in between. Default 3. */
  maxStalledResumes?: number;
  /** Resumes allowed in all. Default 20. */
  maxResumes?: number;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/** Whether a sink asked to be waited for (a sink that returns anything else did not). */
function isPromise(value: unknown): value is Promise<void> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}

function isAbortError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "AbortError";
}

/** The announced length of a response, when it sent a valid one. */
export function contentLength(response: TransportResponse): number | undefined {
  const header = response.headers.get("content-length");
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  const value = Number(header);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * A blob body that survives dropped connections: when the stream breaks off (a reset, a
 * truncated body, a stalled socket the transport timed out), the blob is re-requested from the
 * first byte not yet delivered with `Range`. A `206` must start exactly there; a `200` (a
 * server or CDN that ignores `Range`) is read from the start with the bytes already delivered
 * skipped, so nothing is duplicated. The caller still verifies digest and size: resuming
 * changes where bytes come from, never what is trusted.
 */
export function resumableBody(options: ResumableBodyOptions): Readable {
  const { size } = options;
  const maxStalled = options.maxStalledResumes ?? 3;
  const maxResumes = options.maxResumes ?? 20;
  const announced = contentLength(options.first);
  if (size !== undefined && announced !== undefined && announced !== size) {
    options.first.body.destroy();
    throw new SizeMismatchError({
      expected: size,
      actual: announced,
      kind: announced > size ? "excess" : "truncated",
      operation: options.operation,
    });
  }
  // Where the body ends: what the descriptor says, else what the first response announced.
  return new ResumableBody(options, size ?? announced, maxStalled, maxResumes);
}

/**
 * The stream {@link resumableBody} returns. It forwards the current response's chunks as they
 * arrive ('data' events, pausing the response while the reader is behind) rather than through
 * an async iterator: fewer promises per chunk (a 1 GiB pull took 2.68 s of CPU instead of 2.84).
 */
class ResumableBody extends Readable implements Drainable {
  readonly #options: ResumableBodyOptions;
  readonly #end: number | undefined;
  readonly #maxStalled: number;
  readonly #maxResumes: number;
  #response: TransportResponse | undefined;
  #delivered = 0;
  #skip = 0;
  #stalled = 0;
  #resumes = 0;
  #progressed = false;
  #ended = false;
  /** Set while the body is drained instead of read. */
  #sink: DrainSink | undefined;
  /** Whether the body is read as a stream (its reader asked for data). */
  #streaming = false;
  /** Whether a drain has begun. */
  #draining = false;
  #drained: { resolve: () => void; reject: (error: Error) => void } | undefined;
  /** What the sink threw: the drain fails with it, and it is never a reason to resume. */
  #sinkFailure: unknown;

  constructor(
    options: ResumableBodyOptions,
    end: number | undefined,
    maxStalled: number,
    maxResumes: number,
  ) {
    super();
    this.#options = options;
    this.#end = end;
    this.#maxStalled = maxStalled;
    this.#maxResumes = maxResumes;
    this.#attach(options.first);
  }

  #attach(response: TransportResponse): void {
    this.#response = response;
    this.#progressed = false;
    response.body.once("end", this.#onEnd);
    response.body.once("error", this.#onError);
    // The response is read once this body is read or drained, not before: a body opened ahead
    // of its use (a copy opens its source while the upload session opens) would otherwise copy
    // its first reads into new buffers, where a drain hands them over in place.
    if (this.#sink !== undefined) this.#drainCurrent();
    else if (this.#streaming) response.body.on("data", this.#onData);
  }

  /** Hands the current response's bytes to the sink, by its own drain where it has one. */
  #drainCurrent(): void {
    const body = this.#response?.body;
    if (body === undefined) return;
    if (!isDrainable(body)) {
      if (!body.listeners("data").includes(this.#onData)) body.on("data", this.#onData);
      body.resume();
      return;
    }
    body.off("data", this.#onData);
    body.off("end", this.#onEnd);
    body.off("error", this.#onError);
    body.drainTo(this.#take).then(
      () => {
        if (this.#response?.body === body) this.#onEnd();
      },
      (error: unknown) => {
        if (this.#response?.body !== body) return;
        if (error === this.#sinkFailure) this.destroy(error as Error);
        else this.#onError(error);
      },
    );
  }

  /**
   * The part of a chunk of the current response that is new, counted as delivered: after a
   * resume answered with the whole blob, what was delivered before is skipped.
   */
  #advance<T extends Uint8Array>(chunk: T): T | undefined {
    let bytes = chunk;
    if (this.#skip > 0) {
      if (bytes.length <= this.#skip) {
        this.#skip -= bytes.length;
        return undefined;
      }
      bytes = bytes.subarray(this.#skip) as T;
      this.#skip = 0;
    }
    this.#delivered += bytes.length;
    this.#progressed = true;
    return bytes;
  }

  /** A view of the current response's bytes, in drain mode. */
  readonly #take = (view: Uint8Array): Promise<void> | undefined => {
    const bytes = this.#advance(view);
    if (bytes === undefined) return;
    let waiting: unknown;
    try {
      waiting = (this.#sink as DrainSink)(bytes);
    } catch (error) {
      this.#sinkFailure = error;
      throw error;
    }
    if (!isPromise(waiting)) return;
    return waiting.catch((error: unknown) => {
      this.#sinkFailure = error;
      throw error;
    });
  };

  async [DRAIN](sink: DrainSink): Promise<void> {
    if (this.#draining) throw new Error("the body is already drained");
    // Drained, the body reports its failure through the promise; nobody reads it as a stream.
    this.on("error", () => {});
    if (this.destroyed) throw this.errored ?? new Error("the body was destroyed before its end");
    this.#draining = true;
    try {
      // Whatever was read as a stream before the drain began goes first.
      for (let chunk = this.read() as Buffer | null; chunk !== null; chunk = this.read()) {
        const waiting = sink(chunk);
        if (isPromise(waiting)) await waiting;
      }
    } catch (error) {
      this.destroy(error as Error);
      throw error;
    }
    if (this.destroyed) throw this.errored ?? new Error("the body was destroyed before its end");
    if (this.#ended) {
      this.resume();
      return;
    }
    this.#sink = sink;
    const drained = new Promise<void>((resolve, reject) => {
      this.#drained = { resolve, reject };
    });
    this.#drainCurrent();
    return drained;
  }

  #detach(): Readable | undefined {
    const body = this.#response?.body;
    body?.off("data", this.#onData);
    body?.off("end", this.#onEnd);
    body?.off("error", this.#onError);
    this.#response = undefined;
    return body;
  }

  readonly #onData = (chunk: unknown): void => {
    if (this.#sink !== undefined) {
      let waiting: unknown;
      try {
        waiting = this.#take(chunk as Uint8Array);
      } catch (error) {
        this.destroy(error as Error);
        return;
      }
      if (!isPromise(waiting)) return;
      // A sink that cannot take more yet holds the response until it can.
      const body = this.#response?.body;
      body?.pause();
      waiting.then(
        () => {
          if (this.#response?.body === body) body?.resume();
        },
        (error: unknown) => this.destroy(error as Error),
      );
      return;
    }
    const buffer = this.#advance(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
    if (buffer !== undefined && !this.push(buffer)) this.#response?.body.pause();
  };

  readonly #onEnd = (): void => {
    this.#detach();
    if (this.#skip === 0 && (this.#end === undefined || this.#delivered >= this.#end)) {
      this.#ended = true;
      this.push(null);
      if (this.#drained !== undefined) {
        this.#drained.resolve();
        this.#drained = undefined;
        // Nobody reads a drained body: let it end and close.
        this.resume();
      }
      return;
    }
    this.#resume(new Error(`the body ended after ${this.#delivered} of ${this.#end ?? "?"} bytes`));
  };

  readonly #onError = (error: unknown): void => {
    this.#detach()?.on("error", () => {});
    if (this.#options.signal?.aborted || isAbortError(error)) {
      this.destroy(error as Error);
      return;
    }
    this.#resume(error);
  };

  override _read(): void {
    // Reading what a drain found buffered is not reading the body as a stream.
    if (this.#draining) return;
    if (!this.#streaming) {
      this.#streaming = true;
      this.#response?.body.on("data", this.#onData);
      return;
    }
    this.#response?.body.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#drained !== undefined) {
      this.#drained.reject(error ?? new Error("the body was destroyed before its end"));
      this.#drained = undefined;
    }
    const body = this.#detach();
    if (body && !body.destroyed) {
      body.on("error", () => {});
      body.destroy();
    }
    callback(error);
  }

  /** Re-requests the blob from the first byte not delivered yet, or gives up. */
  #resume(failure: unknown): void {
    const options = this.#options;
    this.#stalled = this.#progressed ? 1 : this.#stalled + 1;
    this.#resumes++;
    if (this.#stalled > this.#maxStalled || this.#resumes > this.#maxResumes) {
      this.destroy(this.#gaveUp(failure));
      return;
    }
    const delivered = this.#delivered;
    options.open(delivered).then(
      (response) => {
        if (this.destroyed) {
          response.body.on("error", () => {});
          response.body.destroy();
          return;
        }
        this.#skip = 0;
        if (response.status === 206) {
          const range = CONTENT_RANGE.exec(response.headers.get("content-range")?.trim() ?? "");
          if (!range || Number(range[1]) !== delivered) {
            response.body.destroy();
            this.destroy(
              new RemoteError(
                `${options.operation} ${options.reference}: asked to resume at byte ${delivered}, the server answered Content-Range ${JSON.stringify(response.headers.get("content-range"))}`,
                {
                  code: "HOIST_REMOTE_BAD_RESPONSE",
                  operation: options.operation,
                  reference: options.reference,
                  status: 206,
                },
              ),
            );
            return;
          }
        } else {
          // The server ignored Range and sends the whole blob: drop what was delivered already.
          this.#skip = delivered;
        }
        this.#attach(response);
      },
      (error: unknown) => this.destroy(error as Error),
    );
  }

  #gaveUp(failure: unknown): Error {
    const options = this.#options;
    const translated = translateError(failure, {
      operation: options.operation,
      reference: options.reference,
      signal: options.signal,
    });
    if (translated instanceof Error && !RemoteError.is(translated)) {
      return new RemoteError(
        `${options.operation} ${options.reference}: the connection kept failing after ${this.#delivered} bytes (${this.#resumes - 1} resumes): ${translated.message}`,
        {
          code: "HOIST_REMOTE_NETWORK",
          operation: options.operation,
          reference: options.reference,
          cause: failure,
        },
      );
    }
    return translated as Error;
  }
}
