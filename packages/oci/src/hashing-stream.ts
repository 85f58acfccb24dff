import { createHash, type Hash as NodeHash } from "node:crypto";
import { Readable, Transform, type TransformCallback } from "node:stream";
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
}

/**
 * A pass-through stream that fails unless exactly the expected bytes flow through: with a
 * {@link SizeMismatchError} as soon as more bytes than `size` arrive (the excess is never passed
 * on) or when the input ends short, and with a {@link DigestMismatchError} at the end when the
 * digest differs. Downstream consumers must treat the data as untrusted until `end`.
 */
export class VerifyingStream extends Transform {
  readonly expected: Hash;
  readonly expectedSize: number | undefined;
  #hasher: NodeHash;
  #size = 0;
  #operation: string;
  #subject: string;

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
  }

  /** Bytes that have passed through so far. */
  get size(): number {
    return this.#size;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const size = this.#size + chunk.length;
    if (this.expectedSize !== undefined && size > this.expectedSize) {
      callback(
        new SizeMismatchError({
          expected: this.expectedSize,
          actual: size,
          kind: "excess",
          operation: this.#operation,
          subject: this.#subject,
        }),
      );
      return;
    }
    this.#size = size;
    this.#hasher.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.expectedSize !== undefined && this.#size !== this.expectedSize) {
      callback(
        new SizeMismatchError({
          expected: this.expectedSize,
          actual: this.#size,
          kind: "truncated",
          operation: this.#operation,
          subject: this.#subject,
        }),
      );
      return;
    }
    const actual = Hash.parse(`${this.expected.algorithm}:${this.#hasher.digest("hex")}`);
    if (!actual.equals(this.expected)) {
      callback(
        new DigestMismatchError({
          expected: this.expected,
          actual,
          size: this.#size,
          operation: this.#operation,
          subject: this.#subject,
        }),
      );
      return;
    }
    callback();
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
