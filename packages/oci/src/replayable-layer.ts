import { addAbortSignal, type Readable } from "node:stream";
import { type Compression, zstdUnsupported } from "./gzip.js";
import type { Hash } from "./hash.js";
import { VerifyingStream } from "./hashing-stream.js";
import type { Layer, LayerDigests, ReadOptions } from "./interfaces.js";
import { defaultLayerMediaType, type ResolvedLayerOptions } from "./layer-options.js";
import { computeLayerDigests, layerPipeline } from "./layer-pipeline.js";
import { SharedComputation } from "./shared-computation.js";

/** @internal A fresh copy of a layer's input, with its detected compression. */
export interface LayerSource {
  compression: Compression;
  stream: Readable;
}

// A layer whose input can be read again (bytes in memory, a file). Digests are computed by
// streaming once, on first need; later reads are verified against them, so a file that changed
// underneath fails with a DigestMismatchError instead of yielding other bytes than advertised.
/** @internal */
export class ReplayableLayer implements Layer {
  readonly #open: (signal: AbortSignal | undefined) => Promise<LayerSource>;
  readonly #options: ResolvedLayerOptions;
  readonly #operation: string;
  readonly #digests: SharedComputation<LayerDigests>;
  #inputCompression: Compression | undefined;

  constructor(
    open: (signal: AbortSignal | undefined) => Promise<LayerSource>,
    options: ResolvedLayerOptions,
    operation: string,
  ) {
    this.#open = open;
    this.#options = options;
    this.#operation = operation;
    this.#digests = new SharedComputation(async (signal) => {
      const source = await this.#source(signal);
      return computeLayerDigests(
        {
          source: source.stream,
          input: source.input,
          blob: this.#blob(source.input),
          level: options.level,
          operation,
        },
        signal,
      );
    });
  }

  async #source(
    signal: AbortSignal | undefined,
  ): Promise<LayerSource & { input: "gzip" | "none" }> {
    const source = await this.#open(signal);
    this.#inputCompression = source.compression;
    if (source.compression === "zstd") {
      source.stream.destroy();
      throw zstdUnsupported(this.#operation);
    }
    return { ...source, input: source.compression };
  }

  #blob(input: "gzip" | "none"): "gzip" | "none" {
    return this.#options.compression ?? input;
  }

  async digest(options: ReadOptions = {}): Promise<Hash> {
    return (await this.#digests.get(options.signal)).digest;
  }

  async diffID(options: ReadOptions = {}): Promise<Hash> {
    return (await this.#digests.get(options.signal)).diffID;
  }

  async size(options: ReadOptions = {}): Promise<number> {
    return (await this.#digests.get(options.signal)).size;
  }

  async mediaType(options: ReadOptions = {}): Promise<string> {
    if (this.#options.mediaType) return this.#options.mediaType;
    if (this.#options.compression) return defaultLayerMediaType(this.#options.compression);
    if (this.#inputCompression === undefined) {
      const source = await this.#source(options.signal);
      source.stream.destroy();
    }
    return defaultLayerMediaType(this.#inputCompression === "gzip" ? "gzip" : "none");
  }

  compressed(options: ReadOptions = {}): Promise<Readable> {
    return this.#read("compressed", options.signal);
  }

  uncompressed(options: ReadOptions = {}): Promise<Readable> {
    return this.#read("uncompressed", options.signal);
  }

  async #read(
    output: "compressed" | "uncompressed",
    signal: AbortSignal | undefined,
  ): Promise<Readable> {
    signal?.throwIfAborted();
    const known = this.#digests.settled?.value;
    const source = await this.#source(signal);
    const tail = known
      ? [
          output === "compressed"
            ? new VerifyingStream({
                digest: known.digest,
                size: known.size,
                operation: this.#operation,
                subject: "layer",
              })
            : new VerifyingStream({
                digest: known.diffID,
                size: known.uncompressedSize,
                operation: this.#operation,
                subject: "uncompressed layer",
              }),
        ]
      : [];
    const stream = layerPipeline({
      source: source.stream,
      input: source.input,
      blob: this.#blob(source.input),
      level: this.#options.level,
      output,
      operation: this.#operation,
      tail,
      // The first full read doubles as the digest computation.
      onDigests: known ? undefined : (digests) => this.#digests.offer(digests),
    });
    return signal ? addAbortSignal(signal, stream) : stream;
  }
}
