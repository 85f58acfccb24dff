import { createHash, type Hash as NodeHash } from "node:crypto";
import { pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import { DigestMismatchError, OciError, SizeMismatchError } from "./errors.js";
import { assertAlgorithm, Hash, type HashAlgorithm, toHash } from "./hash.js";

/**
 * A pass-through stream that hashes and counts what flows through it. {@link HashingStream.hash}
 * is available once the stream has ended (after `finish`/`end`).
 */
export class HashingStream extends Transform {
  readonly algorithm: HashAlgorithm;
  #hasher: NodeHash;
  #size = 0;
  #hash: Hash | undefined;

  constructor(options: { algorithm?: HashAlgorithm } = {}) {
    super();
    const algorithm = options.algorithm ?? "sha256";
    assertAlgorithm(algorithm, "hash stream");
    this.algorithm = algorithm;
    this.#hasher = createHash(algorithm);
  }

  /** Bytes that have passed through so far. */
  get size(): number {
    return this.#size;
  }

  /** True once the input has ended and {@link HashingStream.hash} is known. */
  get computed(): boolean {
    return this.#hash !== undefined;
  }

  /** The digest of everything that passed through. Throws `HOIST_OCI_NOT_COMPUTED` before the end. */
  get hash(): Hash {
    if (this.#hash === undefined) {
      throw new OciError(
        "the digest is not known until the stream has been read to the end; read it fully first",
        { code: "HOIST_OCI_NOT_COMPUTED", operation: "hash stream" },
      );
    }
    return this.#hash;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hasher.update(chunk);
    this.#size += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.#hash = Hash.parse(`${this.algorithm}:${this.#hasher.digest("hex")}`);
    callback();
  }
}

export interface VerifyingStreamOptions {
  /** The digest the bytes must hash to; its algorithm is the one used. */
  digest: Hash | string;
  /** The exact byte count, when known (a descriptor's `size`). Omit when unknown. */
  size?: number;
  /** Named in errors, e.g. "fetch blob". Default: "verify content". */
  operation?: string;
  /** Names the content in errors, e.g. `layer sha256:…`. Default: "content". */
  subject?: string;
  /**
   * Where the bytes come from, instead of piping them in. The stream then reads `source` itself,
   * from its first read; and when `source` can be drained (see {@link DRAIN}), so can the stream.
   */
  source?: Readable;
}

/**
 * The method of a byte source that hands its bytes over synchronously: each view to `sink`
 * before the next is read, valid only during the call. A sink that cannot take more yet returns
 * a promise: the source reads on once it settles (a rejection fails the drain). Resolves after
 * the last byte; rejects with the source's error or with what `sink` threw. Sources that reuse
 * one buffer for every read offer it, so that a consumer that is done with each view at once
 * costs no allocation.
 */
export const DRAIN: unique symbol = Symbol.for("@hoist/oci.drain");

/** Something that can be drained: see {@link DRAIN}. */
export interface Drainable {
  [DRAIN](sink: DrainSink): Promise<void>;
}

/** Takes one view, valid only during the call; returning a promise asks the source to wait for it. */
export type DrainSink = (view: Uint8Array) => unknown;

export function isDrainable(value: unknown): value is Drainable {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Partial<Drainable>)[DRAIN] === "function"
  );
}

/**
 * The method of a byte source that reads its next bytes into a buffer its caller owns: it
 * writes up to `into.length` bytes at the start of `into` and returns how many, 0 at the end.
 * It rejects (or throws) with the source's error. A source filled this way is not read as a
 * stream as well. It lets an upload reuse the same few buffers for every read of a blob.
 */
export const FILL: unique symbol = Symbol.for("@hoist/oci.fill");

/** Something that can be filled: see {@link FILL}. */
export interface Fillable {
  [FILL](into: Uint8Array): number | Promise<number>;
}

export function isFillable(value: unknown): value is Fillable {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Partial<Fillable>)[FILL] === "function"
  );
}

/**
 * A pass-through stream that fails unless exactly the expected bytes flow through: with a
 * {@link SizeMismatchError} as soon as more bytes than `size` arrive (the excess is never passed
 * on) or when the input ends short, and with a {@link DigestMismatchError} at the end when the
 * digest differs. Downstream consumers must treat the data as untrusted until `end`.
 *
 * Given a `source`, it is also {@link Drainable}: draining it checks every view on its way to
 * the sink and rejects, before resolving, exactly where reading it would have failed. Given a
 * {@link Fillable} source, it is fillable too, and checks the digest as soon as the expected
 * size has been read: a wrong blob fails the fill that would hand over its last bytes.
 */
export class VerifyingStream extends Transform implements Drainable {
  readonly expected: Hash;
  readonly expectedSize: number | undefined;
  #hasher: NodeHash;
  #size = 0;
  #operation: string;
  #subject: string;
  #source: Readable | undefined;
  /** Whether the source has started flowing, as a stream, into a drain or into fills. */
  #started = false;
  #filling = false;
  /** Whether the digest has been checked (it can be computed once). */
  #checked = false;
  /** Present when the source is {@link Fillable}; see {@link FILL}. */
  readonly [FILL]?: (into: Uint8Array) => Promise<number>;

  constructor(options: VerifyingStreamOptions) {
    super();
    this.expected = toHash(options.digest);
    if (options.size !== undefined && (!Number.isSafeInteger(options.size) || options.size < 0)) {
      throw new OciError(`expected size must be a non-negative integer, got ${options.size}`, {
        code: "HOIST_OCI_INVALID_ARGUMENT",
        operation: options.operation ?? "verify content",
      });
    }
    this.expectedSize = options.size;
    this.#hasher = createHash(this.expected.algorithm);
    this.#operation = options.operation ?? "verify content";
    this.#subject = options.subject ?? "content";
    const source = options.source;
    if (source !== undefined) {
      this.#source = source;
      // Until it flows, a failing source fails this stream rather than going unheard.
      source.once("error", (error) => {
        if (!this.#started) this.destroy(error);
      });
      if (isFillable(source)) this[FILL] = (into) => this.#fill(source, into);
    }
  }

  /** Bytes that have passed through so far. */
  get size(): number {
    return this.#size;
  }

  override _read(size: number): void {
    const source = this.#source;
    if (source !== undefined && !this.#started) {
      this.#started = true;
      pipeline(source, this, () => {});
    }
    super._read(size);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const source = this.#source;
    if (source !== undefined && (!this.#started || this.#filling) && !source.destroyed) {
      source.on("error", () => {});
      source.destroy();
    }
    super._destroy(error, callback);
  }

  async #fill(source: Readable & Fillable, into: Uint8Array): Promise<number> {
    if (this.#started && !this.#filling) {
      throw new OciError("the stream is already being read, so it cannot be filled as well", {
        code: "HOIST_OCI_INVALID_ARGUMENT",
        operation: this.#operation,
      });
    }
    if (!this.#filling) {
      this.#started = true;
      this.#filling = true;
      // Filled, the stream reports its failure to the fill; nobody reads it as a stream.
      this.on("error", () => {});
    }
    if (this.destroyed) {
      throw new OciError("the stream was closed before it was filled to its end", {
        code: "HOIST_OCI_INVALID_ARGUMENT",
        operation: this.#operation,
      });
    }
    try {
      const bytes = await source[FILL](into);
      if (bytes === 0) {
        const failure = this.#checked ? undefined : this.#end();
        if (failure) throw failure;
        this.destroy();
        return 0;
      }
      const failure = this.#take(into.subarray(0, bytes));
      if (failure) throw failure;
      if (this.expectedSize !== undefined && this.#size === this.expectedSize) {
        // Checked now, not at the end: the last bytes of a wrong blob are never handed over.
        const wrong = this.#end();
        if (wrong) throw wrong;
      }
      return bytes;
    } catch (error) {
      this.destroy(error as Error);
      throw error;
    }
  }

  async [DRAIN](sink: DrainSink): Promise<void> {
    const source = this.#source;
    if (source === undefined || this.#started || !isDrainable(source)) {
      // Nothing to drain directly: read this stream as any other.
      for await (const chunk of this) await sink(chunk as Buffer);
      return;
    }
    this.#started = true;
    // Drained, the stream reports its failure through the promise; nobody reads it as a stream.
    this.on("error", () => {});
    try {
      await source[DRAIN]((view) => {
        const failure = this.#take(view);
        if (failure) throw failure;
        return sink(view);
      });
      const failure = this.#end();
      if (failure) throw failure;
    } catch (error) {
      this.destroy(error as Error);
      throw error;
    }
    // Drained, the stream has nothing more to give: close it, as reading it to its end would.
    this.destroy();
  }

  /** Counts and hashes `chunk`; the error when it goes past the expected size. */
  #take(chunk: Uint8Array): Error | undefined {
    const size = this.#size + chunk.length;
    if (this.expectedSize !== undefined && size > this.expectedSize) {
      return new SizeMismatchError({
        expected: this.expectedSize,
        actual: size,
        kind: "excess",
        operation: this.#operation,
        subject: this.#subject,
      });
    }
    this.#size = size;
    this.#hasher.update(chunk);
    return undefined;
  }

  /** The error, if the bytes taken were not exactly the expected ones. */
  #end(): Error | undefined {
    this.#checked = true;
    if (this.expectedSize !== undefined && this.#size !== this.expectedSize) {
      return new SizeMismatchError({
        expected: this.expectedSize,
        actual: this.#size,
        kind: "truncated",
        operation: this.#operation,
        subject: this.#subject,
      });
    }
    const actual = Hash.parse(`${this.expected.algorithm}:${this.#hasher.digest("hex")}`);
    if (!actual.equals(this.expected)) {
      return new DigestMismatchError({
        expected: this.expected,
        actual,
        size: this.#size,
        operation: this.#operation,
        subject: this.#subject,
      });
    }
    return undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const failure = this.#take(chunk);
    if (failure) callback(failure);
    else callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.#end() ?? null);
  }
}

export interface HashStreamOptions {
  /** Default: sha256. */
  algorithm?: HashAlgorithm;
  signal?: AbortSignal;
}

/**
 * Reads a stream (or any async iterable of bytes) to its end and returns its digest and byte
 * count. Memory use is constant: each chunk is hashed and dropped.
 */
export async function hashStream(
  source: Readable | AsyncIterable<Uint8Array>,
  options: HashStreamOptions = {},
): Promise<{ hash: Hash; size: number }> {
  const algorithm = options.algorithm ?? "sha256";
  assertAlgorithm(algorithm, "hash stream");
  const signal = options.signal;
  signal?.throwIfAborted();
  const hasher = createHash(algorithm);
  let size = 0;
  const readable =
    source instanceof Readable ? source : Readable.from(source, { objectMode: false });
  const onAbort = () => readable.destroy(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const chunk of readable) {
      const bytes: Uint8Array = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      hasher.update(bytes);
      size += bytes.length;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  signal?.throwIfAborted();
  return { hash: Hash.parse(`${algorithm}:${hasher.digest("hex")}`), size };
}
