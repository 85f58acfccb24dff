import { Readable } from "node:stream";
import { OciError } from "./errors.js";
import { type Compression, detectCompression } from "./gzip.js";

// Reads just enough of a one-shot source to detect its compression, keeping what was read so
// the single stream handed out later still starts at byte 0.
/** @internal */
export class PeekableSource {
  readonly #iterator: AsyncIterator<unknown>;
  readonly #operation: string;
  #head: Promise<{ chunks: Buffer[]; done: boolean }> | undefined;

  constructor(source: Readable | AsyncIterable<Uint8Array>, operation: string) {
    this.#iterator = source[Symbol.asyncIterator]();
    this.#operation = operation;
  }

  compression(): Promise<Compression> {
    this.#head ??= (async () => {
      const chunks: Buffer[] = [];
      let length = 0;
      while (length < 4) {
        const next = await this.#iterator.next();
        if (next.done) return { chunks, done: true };
        const chunk = this.#toBuffer(next.value);
        chunks.push(chunk);
        length += chunk.length;
      }
      return { chunks, done: false };
    })();
    return this.#head.then(({ chunks }) => detectCompression(Buffer.concat(chunks).subarray(0, 4)));
  }

  /** The whole source from byte 0. Call once. */
  async stream(): Promise<Readable> {
    await this.compression();
    const { chunks, done } = await (this.#head as Promise<{ chunks: Buffer[]; done: boolean }>);
    const iterator = this.#iterator;
    const toBuffer = (value: unknown) => this.#toBuffer(value);
    async function* bytes(): AsyncGenerator<Buffer> {
      yield* chunks;
      if (done) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield toBuffer(next.value);
      }
    }
    const stream = Readable.from(bytes(), { objectMode: false });
    // Destroying the stream early must also release the caller's source (close its file, socket).
    stream.once("close", () => this.release());
    return stream;
  }

  /** Lets go of the source without reading further. */
  release(): void {
    this.#iterator.return?.().catch(() => {});
  }

  #toBuffer(chunk: unknown): Buffer {
    if (typeof chunk === "string") return Buffer.from(chunk);
    if (chunk instanceof Uint8Array) {
      return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    throw new OciError(`a layer stream yielded ${typeof chunk}, not bytes`, {
      code: "HOIST_OCI_INVALID_ARGUMENT",
      operation: this.#operation,
    });
  }
}
