// The chunked transfer coding (RFC 9112, section 7.1), decoded as bytes arrive: chunk data is
// handed on as views of the input, never copied; size lines and trailers are bounded.

const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;
const CR = 0x0d;
const LF = 0x0a;
const SIZE_LINE = /^([0-9a-fA-F]{1,13})[\t ]*(?:;.*)?$/;

export class ChunkedDecodeError extends Error {
  readonly code = "HPE_INVALID_CHUNK_SIZE";
}

type State = "size" | "data" | "data-end" | "trailers" | "done";

export class ChunkedDecoder {
  #state: State = "size";
  #line: number[] = [];
  #remaining = 0;
  #trailerBytes = 0;

  get done(): boolean {
    return this.#state === "done";
  }

  /**
   * Decodes `input`, handing chunk data to `emit`; returns how many bytes of `input` belonged
   * to the body (the rest, after the last chunk and trailers, does not). Throws on bytes that
   * are not the chunked coding.
   */
  take(input: Uint8Array, emit: (view: Uint8Array) => void): number {
    let at = 0;
    while (at < input.length && this.#state !== "done") {
      switch (this.#state) {
        case "data": {
          const end = Math.min(input.length, at + this.#remaining);
          emit(input.subarray(at, end));
          this.#remaining -= end - at;
          at = end;
          if (this.#remaining === 0) this.#state = "data-end";
          break;
        }
        case "data-end":
        case "size":
        case "trailers": {
          const byte = input[at++] as number;
          if (byte !== LF) {
            this.#line.push(byte);
            if (this.#line.length > MAX_LINE)
              throw new ChunkedDecodeError("a chunk line is too long");
            break;
          }
          const line = this.#line;
          this.#line = [];
          if (line[line.length - 1] !== CR)
            throw new ChunkedDecodeError("a chunk line ends without CRLF");
          this.#endLine(Buffer.from(line.slice(0, -1)).toString("latin1"));
          break;
        }
      }
    }
    return at;
  }

  #endLine(line: string): void {
    if (this.#state === "data-end") {
      if (line !== "") throw new ChunkedDecodeError("chunk data is longer than its size");
      this.#state = "size";
      return;
    }
    if (this.#state === "size") {
      const size = SIZE_LINE.exec(line);
      if (!size) throw new ChunkedDecodeError("a chunk size is not hexadecimal");
      this.#remaining = Number.parseInt(size[1] as string, 16);
      this.#state = this.#remaining === 0 ? "trailers" : "data";
      return;
    }
    // Trailers are read and dropped; the blank line ends the body.
    this.#trailerBytes += line.length + 2;
    if (this.#trailerBytes > MAX_TRAILERS)
      throw new ChunkedDecodeError("the trailers are too long");
    if (line === "") this.#state = "done";
  }
}
