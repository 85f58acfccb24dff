import { Readable } from "node:stream";
import { DRAIN, type Drainable, type DrainSink } from "./hashing-stream.js";

/**
 * @internal Bytes held in memory as a stream that can also be drained (see {@link DRAIN}) in
 * one view. A drainable upload body goes out on the transport's own connections; a plain
 * `Readable.from` one went through undici, which a copy then loaded (its modules and its
 * parser's WebAssembly) for the config blob alone.
 */
export function bytesStream(bytes: Uint8Array): Readable & Drainable {
  return new BytesStream(bytes);
}

class BytesStream extends Readable implements Drainable {
  #bytes: Uint8Array | undefined;

  constructor(bytes: Uint8Array) {
    super();
    this.#bytes = bytes;
  }

  override _read(): void {
    const bytes = this.#bytes;
    this.#bytes = undefined;
    if (bytes !== undefined && bytes.byteLength > 0) {
      this.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
    this.push(null);
  }

  async [DRAIN](sink: DrainSink): Promise<void> {
    const bytes = this.#bytes;
    if (bytes === undefined) {
      // Already read as a stream: hand over whatever is left of it.
      for await (const chunk of this) await sink(chunk as Buffer);
      return;
    }
    this.#bytes = undefined;
    // Drained, the stream reports its failure through the promise; nobody reads it as a stream.
    this.on("error", () => {});
    try {
      if (bytes.byteLength > 0) await sink(bytes);
    } catch (error) {
      this.destroy(error as Error);
      throw error;
    }
    // Drained, the stream has nothing more to give: close it, as reading it to its end would.
    this.destroy();
  }
}
