import { addAbortSignal, pipeline, type Readable } from "node:stream";
import { bytesStream } from "./bytes-stream.js";
import { createGunzipStream, zstdUnsupported } from "./gzip.js";
import type { Hash } from "./hash.js";
import { VerifyingStream } from "./hashing-stream.js";
import type { Layer, ReadOptions } from "./interfaces.js";
import { cloneDocument } from "./json.js";
import { PeekableSource } from "./peekable-source.js";
import type { Descriptor } from "./types.js";
import { readDescriptorData } from "./verified-read.js";

/** Where a blob's bytes come from. */
export interface BlobSource {
  /**
   * The blob a descriptor names, exactly as stored (compressed for layers). Whoever calls this
   * through `@hoist/oci` verifies the bytes against the descriptor, so implementations need not.
   */
  blob(descriptor: Descriptor, options?: ReadOptions): Promise<Readable>;
  /**
   * Optional: a manifest by descriptor, for stores that keep manifests apart from blobs (a
   * registry's /manifests/ endpoint). The bytes are verified by the caller. Default: `blob`.
   */
  manifest?(descriptor: Descriptor, options?: ReadOptions): Promise<Uint8Array>;
}

// A layer known from a descriptor: digest, size and media type need no I/O; reads are verified
// against the descriptor as they stream; the uncompressed form is found by sniffing the magic
// number, as go-containerregistry does, because media types in the wild lie about compression.
/** @internal */
export class DescriptorLayer implements Layer {
  readonly #descriptor: Descriptor;
  readonly #source: BlobSource;
  readonly #diffID: (signal: AbortSignal | undefined) => Promise<Hash>;
  readonly #operation: string;

  constructor(options: {
    descriptor: Descriptor;
    source: BlobSource;
    diffID: (signal: AbortSignal | undefined) => Promise<Hash>;
    operation: string;
  }) {
    this.#descriptor = options.descriptor;
    this.#source = options.source;
    this.#diffID = options.diffID;
    this.#operation = options.operation;
  }

  async digest(): Promise<Hash> {
    return this.#descriptor.digest;
  }

  diffID(options: ReadOptions = {}): Promise<Hash> {
    return this.#diffID(options.signal);
  }

  async size(): Promise<number> {
    return this.#descriptor.size;
  }

  async mediaType(): Promise<string> {
    return this.#descriptor.mediaType;
  }

  async descriptor(): Promise<Descriptor> {
    return cloneDocument(this.#descriptor);
  }

  async compressed(options: ReadOptions = {}): Promise<Readable> {
    const signal = options.signal;
    signal?.throwIfAborted();
    const inline = readDescriptorData(this.#descriptor);
    if (inline) return bytesStream(inline);
    // The verifier reads the blob itself, so that a drainable blob can be drained through it.
    const stream = new VerifyingStream({
      digest: this.#descriptor.digest,
      size: this.#descriptor.size,
      operation: this.#operation,
      subject: `blob ${this.#descriptor.digest}`,
      source: await this.#source.blob(this.#descriptor, { signal }),
    });
    return signal ? addAbortSignal(signal, stream) : stream;
  }

  async uncompressed(options: ReadOptions = {}): Promise<Readable> {
    const compressed = await this.compressed(options);
    const peek = new PeekableSource(compressed, this.#operation);
    const compression = await peek.compression();
    if (compression === "zstd") {
      peek.release();
      compressed.destroy();
      throw zstdUnsupported(this.#operation);
    }
    const stream = await peek.stream();
    if (compression === "none") return stream;
    return pipeline(stream, createGunzipStream({ operation: this.#operation }), () => {});
  }
}
