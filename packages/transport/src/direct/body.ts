import { Readable } from "node:stream";

/**
 * Takes one view of body bytes; the view is only valid during the call. A sink that cannot take
 * more yet returns a promise: the socket reads again once it settles.
 */
export type BodySink = (view: Uint8Array) => unknown;

/** A response body that can also be handed over synchronously, a read at a time. */
export interface DrainableBody extends Readable {
  /**
   * Hands every byte of the body to `sink`, in order, each view before the socket reads again
   * (so the socket's one buffer can be reused). Bytes already buffered as a stream go first.
   * Resolves after the last byte; rejects with the body's error, or with what `sink` threw.
   */
  drainTo(sink: BodySink): Promise<void>;
}

export function isDrainable(body: unknown): body is DrainableBody {
  return body instanceof DirectBody;
}

/** What a DirectBody needs of its connection. */
export interface DirectBodySource {
  /** Starts reading again after a delivery returned false. */
  resume(): void;
  /** Gives up on the connection: the body will not be read to its end. */
  abandon(): void;
}

/**
 * The body of a response read on a direct connection. Read as a stream, each read is copied
 * into a new Buffer (the connection's buffer is reused); drained, each read goes to the sink.
 */
export class DirectBody extends Readable implements DrainableBody {
  readonly #source: DirectBodySource;
  #sink: BodySink | undefined;
  #settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #finished = false;
  #failure: Error | undefined;
  /** Whether anyone has read it as a stream yet. */
  #read = false;

  constructor(source: DirectBodySource) {
    super({ highWaterMark: 256 * 1024 });
    this.#source = source;
  }

  /** @internal Called by the connection with each view of the body. */
  deliver(view: Uint8Array): boolean {
    if (this.destroyed) return false;
    const sink = this.#sink;
    // Until someone reads or drains it, the socket stops after the read that held the head:
    // a body about to be drained is not copied into a new buffer a read at a time meanwhile.
    if (sink === undefined) return this.push(Buffer.from(view)) && this.#read;
    let waiting: unknown;
    try {
      waiting = sink(view);
    } catch (error) {
      this.#source.abandon();
      this.#fail(error as Error);
      return false;
    }
    if (!isPromise(waiting)) return true;
    waiting.then(
      () => this.#source.resume(),
      (error: unknown) => {
        this.#source.abandon();
        this.#fail(error as Error);
      },
    );
    return false;
  }

  /** @internal The last byte has been delivered. */
  finish(): void {
    this.#finished = true;
    this.push(null);
    if (this.#sink !== undefined) {
      // Nobody reads a drained body as a stream: let it end, so that 'end' and 'close' come.
      this.resume();
      this.#settle?.resolve();
      this.#settle = undefined;
    }
  }

  /** @internal The connection failed before the last byte. */
  fail(error: Error): void {
    this.#fail(error);
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined || this.#finished) return;
    this.#failure = error;
    this.#settle?.reject(error);
    this.#settle = undefined;
    // The head and a broken body can come in one read, before whoever awaited the answer has
    // had a turn to listen: the stream fails on the next turn of the event loop, not this one.
    setImmediate(() => this.destroy(error));
  }

  async drainTo(sink: BodySink): Promise<void> {
    if (this.#sink !== undefined) throw new Error("the body is already drained");
    // A drained body reports its failure through the promise; as a stream nobody reads it.
    this.on("error", () => {});
    if (this.#failure !== undefined) throw this.#failure;
    // Bytes that arrived before the drain began were buffered as a stream; they go first.
    try {
      for (let chunk = this.read() as Buffer | null; chunk !== null; chunk = this.read()) {
        const waiting = sink(chunk);
        if (isPromise(waiting)) await waiting;
      }
    } catch (error) {
      this.#source.abandon();
      this.#fail(error as Error);
      throw error;
    }
    if (this.#failure !== undefined) throw this.#failure;
    this.#sink = sink;
    if (this.#finished) {
      this.resume();
      return;
    }
    const settled = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.#source.resume();
    return settled;
  }

  override _read(): void {
    this.#read = true;
    this.#source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#finished) this.#source.abandon();
    if (this.#settle !== undefined) {
      this.#settle.reject(error ?? new Error("the body was destroyed before its end"));
      this.#settle = undefined;
    }
    callback(error);
  }
}

/** Whether a sink asked to be waited for (a sink that returns anything else did not). */
function isPromise(value: unknown): value is Promise<void> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}
