import { addAbortSignal, type Readable } from "node:stream";
import { OciError } from "./errors.js";
import { zstdUnsupported } from "./gzip.js";
import type { Hash } from "./hash.js";
import type { Layer, LayerDigests, ReadOptions } from "./interfaces.js";
import {
  defaultLayerMediaType,
  type LayerOptions,
  type ResolvedLayerOptions,
  resolveLayerOptions,
} from "./layer-options.js";
import { layerPipeline } from "./layer-pipeline.js";
import { PeekableSource } from "./peekable-source.js";
import { raceAbort } from "./shared-computation.js";

/**
 * A layer over a one-shot stream (go-containerregistry's stream.Layer). Its bytes can be read
 * once, through {@link Layer.compressed} or {@link Layer.uncompressed}; digest, diffID and size
 * are computed during that read. Before it has finished they throw `HOIST_OCI_NOT_COMPUTED`;
 * a second read throws `HOIST_OCI_CONSUMED`.
 */
export interface StreamLayer extends Layer {
  /** True once the stream has been read to its end and the digests are known. */
  readonly computed: boolean;
  /**
   * Resolves with the digests when the one read finishes; rejects with its error if it fails.
   * Does not start reading: something must consume {@link Layer.compressed} or
   * {@link Layer.uncompressed}.
   */
  whenComputed(options?: ReadOptions): Promise<LayerDigests>;
}

class OneShotLayer implements StreamLayer {
  readonly #source: PeekableSource;
  readonly #options: ResolvedLayerOptions;
  #state: "fresh" | "reading" | "computed" | "failed" = "fresh";
  #digests: LayerDigests | undefined;
  readonly #done: Promise<LayerDigests>;
  #resolve!: (digests: LayerDigests) => void;
  #reject!: (error: unknown) => void;

  constructor(source: Readable | AsyncIterable<Uint8Array>, options: ResolvedLayerOptions) {
    this.#source = new PeekableSource(source, "layer from stream");
    this.#options = options;
    this.#done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#done.catch(() => {});
  }

  get computed(): boolean {
    return this.#state === "computed";
  }

  whenComputed(options: ReadOptions = {}): Promise<LayerDigests> {
    return raceAbort(this.#done, options.signal);
  }

  #known(what: string): LayerDigests {
    if (this.#digests) return this.#digests;
    const hint =
      this.#state === "failed"
        ? "the one read of its stream failed, so it will never be known"
        : "read compressed() or uncompressed() to the end first (or await whenComputed())";
    throw new OciError(
      `the ${what} of a streamed layer is known only after its bytes were read once; ${hint}`,
      {
        code: "HOIST_OCI_NOT_COMPUTED",
        operation: "layer from stream",
      },
    );
  }

  async digest(): Promise<Hash> {
    return this.#known("digest").digest;
  }

  async diffID(): Promise<Hash> {
    return this.#known("diffID").diffID;
  }

  async size(): Promise<number> {
    return this.#known("size").size;
  }

  async mediaType(options: ReadOptions = {}): Promise<string> {
    if (this.#options.mediaType) return this.#options.mediaType;
    if (this.#options.compression) return defaultLayerMediaType(this.#options.compression);
    const compression = await raceAbort(this.#source.compression(), options.signal);
    return defaultLayerMediaType(compression === "gzip" ? "gzip" : "none");
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
    const operation = "layer from stream";
    if (this.#state !== "fresh") {
      throw new OciError(
        "a streamed layer can be read only once and this one was read already; build a new layer from a new stream, or use layerFromFile or layerFromBytes to read repeatedly",
        {
          code: "HOIST_OCI_CONSUMED",
          operation,
        },
      );
    }
    signal?.throwIfAborted();
    this.#state = "reading";
    try {
      const compression = await raceAbort(this.#source.compression(), signal);
      if (compression === "zstd") {
        this.#source.release();
        throw zstdUnsupported(operation);
      }
      const source = await this.#source.stream();
      const stream = layerPipeline({
        source,
        input: compression,
        blob: this.#options.compression ?? compression,
        level: this.#options.level,
        output,
        operation,
        onDigests: (digests) => {
          this.#digests = digests;
          this.#state = "computed";
          this.#resolve(digests);
        },
      });
      stream.once("error", (error) => this.#fail(error));
      stream.once("close", () => {
        if (this.#state === "reading") {
          this.#fail(
            new OciError("the streamed layer was closed before it was read to the end", {
              code: "HOIST_OCI_NOT_COMPUTED",
              operation,
            }),
          );
        }
      });
      return signal ? addAbortSignal(signal, stream) : stream;
    } catch (error) {
      this.#fail(error);
      throw error;
    }
  }

  #fail(error: unknown): void {
    if (this.#state === "computed") return;
    this.#state = "failed";
    this.#reject(error);
  }
}

/**
 * A layer over a one-shot stream of a tar or gzipped tar: see {@link StreamLayer}. With
 * `compression: "gzip"` a plain tar is gzipped while it is read.
 */
export function layerFromStream(
  source: Readable | AsyncIterable<Uint8Array>,
  options: LayerOptions = {},
): StreamLayer {
  const operation = "layer from stream";
  if (typeof source !== "object" || source === null || !(Symbol.asyncIterator in source)) {
    throw new OciError("expected a Readable or an async iterable of bytes", {
      code: "HOIST_OCI_INVALID_ARGUMENT",
      operation,
    });
  }
  return new OneShotLayer(source, resolveLayerOptions(options, operation));
}
