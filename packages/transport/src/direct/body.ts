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
  /** Whether the stream's end has been pushed (it waits behind kept views). */
  #ended = false;
  #failure: Error | undefined;
  /** Whether anyone has read it as a stream yet. */
  #read = false;
  /** Whether a drain is handing over what came before it (reads as a stream wait meanwhile). */
  #draining = false;
  /**
   * Views delivered before anyone read or drained the body (the read that held the head). The
   * socket stays paused on them, so they are kept where they are, in the connection's buffer,
   * and a drain takes them in place; they are copied only when read as a stream, or when the
   * body ends in that read (the connection may then read into its buffer again).
   */
  #early: Uint8Array[] = [];
  #earlyCopied = false;

  constructor(source: DirectBodySource) {
    super({ highWaterMark: 256 * 1024 });
    this.#source = source;
  }

  /** @internal Called by the connection with each view of the body. */
  deliver(view: Uint8Array): boolean {
    if (this.destroyed) return false;
    const sink = this.#sink;
    if (sink === undefined) {
      if (this.#read) return this.push(Buffer.from(view));
      // Until someone reads or drains it, the socket stops after the read that held the head.
      // Not pushed as a stream either: a push makes the stream ask for more (and so read and
      // copy on) before the drain that is about to come.
      this.#early.push(view);
      return false;
    }
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
    if (this.#early.length > 0) {
      if (!this.#earlyCopied) this.#early = this.#early.map((view) => Buffer.from(view));
      this.#earlyCopied = true;
      // The end goes after them, once the body is read or drained.
      return;
    }
    this.#end();
  }

  #end(): void {
    this.#ended = true;
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
    this.#early = [];
    this.#settle?.reject(error);
    this.#settle = undefined;
    // The head and a broken body can come in one read, before whoever awaited the answer has
    // had a turn to listen: the stream fails on the next turn of the event loop, not this one.
    setImmediate(() => this.destroy(error));
  }

  async drainTo(sink: BodySink): Promise<void> {
    if (this.#sink !== undefined || this.#draining) throw new Error("the body is already drained");
    this.#draining = true;
    // A drained body reports its failure through the promise; as a stream nobody reads it.
    this.on("error", () => {});
    if (this.#failure !== undefined) throw this.#failure;
    // What arrived before the drain began goes first: bytes buffered as a stream (if it was read
    // as one), then views kept in place. The socket reads again only once the sink is set.
    try {
      for (let chunk = this.read() as Buffer | null; chunk !== null; chunk = this.read()) {
        const waiting = sink(chunk);
        if (isPromise(waiting)) await waiting;
      }
      for (let view = this.#early.shift(); view !== undefined; view = this.#early.shift()) {
        const waiting = sink(view);
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
      if (!this.#ended) this.#end();
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
    if (this.#draining) return;
    this.#read = true;
    if (this.#early.length > 0) {
      const copied = this.#earlyCopied;
      for (const view of this.#early) this.push(copied ? view : Buffer.from(view));
      this.#early = [];
      if (this.#finished) {
        this.#end();
        return;
      }
    }
    this.#source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#early = [];
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
