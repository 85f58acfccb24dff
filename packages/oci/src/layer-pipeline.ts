import {
  type Duplex,
  pipeline,
  type Readable,
  Transform,
  type TransformCallback,
  Writable,
} from "node:stream";
import { createGunzipStream, createGzipStream } from "./gzip.js";
import { HashingStream } from "./hashing-stream.js";
import type { LayerDigests } from "./interfaces.js";

// Layer bytes flow through one pipeline that produces the wanted form (compressed blob or
// uncompressed tar) and hashes both forms on the way. When the wanted form is not the one that
// needs computing (an uncompressed read of a layer that is gzipped on the fly), the other form is
// computed on a side branch and thrown away after hashing. Every stage honours backpressure, so
// memory stays flat whatever the layer's size.

/** @internal */
export interface LayerPipelineOptions {
  source: Readable;
  /** Whether `source` is gzip (detected from its magic number). */
  input: "gzip" | "none";
  /** The layer's blob form. */
  blob: "gzip" | "none";
  level: number;
  /** Which form the returned stream carries. */
  output: "compressed" | "uncompressed";
  operation: string;
  /** Extra stages at the end (verification). */
  tail?: Transform[];
  /** Called once every byte has been hashed, before the returned stream ends. */
  onDigests?: (digests: LayerDigests) => void;
}

// Passes chunks through and also writes them to a side branch, waiting on the branch's
// backpressure; ends only after the branch finished, so its hash is known by then.
class Tee extends Transform {
  readonly #side: Duplex;
  readonly #done: Promise<void>;

  constructor(stages: Duplex[]) {
    super();
    const [head] = stages;
    if (!head) throw new Error("Tee needs a side branch");
    this.#side = head;
    this.#done = new Promise((resolve, reject) => {
      pipeline(
        [...stages, new Writable({ write: (_chunk, _encoding, callback) => callback() })],
        (error) => (error ? reject(error) : resolve()),
      );
    });
    this.#done.catch((error: Error) => this.destroy(error));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#side.write(chunk)) callback(null, chunk);
    else this.#side.once("drain", () => callback(null, chunk));
  }

  override _flush(callback: TransformCallback): void {
    this.#side.end();
    this.#done.then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#side.destroy(error ?? undefined);
    callback(error);
  }
}

// The last stage: reports the digests when its input ends, which is after every upstream hasher
// (and side branch) has finished.
class Completion extends Transform {
  readonly #report: () => void;

  constructor(report: () => void) {
    super();
    this.#report = report;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#report();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}

/** @internal Builds the pipeline; the returned stream carries the wanted form. */
export function layerPipeline(options: LayerPipelineOptions): Readable {
  const { input, blob, output, level, operation } = options;
  const stages: Array<Readable | Duplex> = [options.source];
  let compressedHash: HashingStream;
  let uncompressedHash: HashingStream;

  if (input === blob) {
    // The source is the blob. For an uncompressed blob both forms are the same bytes.
    compressedHash = new HashingStream();
    stages.push(compressedHash);
    if (blob === "none") {
      uncompressedHash = compressedHash;
    } else {
      uncompressedHash = new HashingStream();
      if (output === "compressed") {
        stages.push(new Tee([createGunzipStream({ operation }), uncompressedHash]));
      } else {
        stages.push(createGunzipStream({ operation }), uncompressedHash);
      }
    }
  } else if (input === "none") {
    // Plain tar in, gzip blob out.
    uncompressedHash = new HashingStream();
    compressedHash = new HashingStream();
    stages.push(uncompressedHash);
    if (output === "compressed") {
      stages.push(createGzipStream({ level }), compressedHash);
    } else {
      stages.push(new Tee([createGzipStream({ level }), compressedHash]));
    }
  } else {
    // gzip in, uncompressed blob out: both forms are the decompressed bytes.
    compressedHash = new HashingStream();
    uncompressedHash = compressedHash;
    stages.push(createGunzipStream({ operation }), compressedHash);
  }

  stages.push(...(options.tail ?? []));
  const onDigests = options.onDigests;
  if (onDigests) {
    stages.push(
      new Completion(() =>
        onDigests({
          digest: compressedHash.hash,
          diffID: uncompressedHash.hash,
          size: compressedHash.size,
          uncompressedSize: uncompressedHash.size,
        }),
      ),
    );
  }
  // Errors anywhere destroy every stage; the consumer sees them on the returned stream.
  return pipeline(stages as [Readable, ...Duplex[]], () => {}) as unknown as Readable;
}

/** @internal Runs the pipeline to its end, discarding the bytes, and returns the digests. */
export function computeLayerDigests(
  options: Omit<LayerPipelineOptions, "output" | "onDigests">,
  signal?: AbortSignal,
): Promise<LayerDigests> {
  return new Promise((resolve, reject) => {
    let digests: LayerDigests | undefined;
    const stream = layerPipeline({
      ...options,
      output: "compressed",
      onDigests: (value) => {
        digests = value;
      },
    });
    const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const onAbort = () => stream.destroy(signal?.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    pipeline(stream, sink, (error) => {
      signal?.removeEventListener("abort", onAbort);
      if (error) reject(error);
      else if (digests) resolve(digests);
      else reject(new Error("layer pipeline ended without digests"));
    });
  });
}
