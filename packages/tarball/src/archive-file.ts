import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { addAbortSignal, PassThrough, Readable } from "node:stream";
import { quote, reason, TarballError } from "./errors.js";
import { type EntryLocation, readExactly, type TarIndex } from "./tar-index.js";

/** @internal An indexed archive on disk whose entries are read by offset. */
export class ArchiveFile {
  readonly index: TarIndex;
  #closed = false;

  constructor(index: TarIndex) {
    this.index = index;
  }

  get path(): string {
    return this.index.path;
  }

  get closed(): boolean {
    return this.#closed;
  }

  markClosed(): void {
    this.#closed = true;
  }

  #checkOpen(operation: string): void {
    if (this.#closed) {
      throw new TarballError(
        `tarball ${quote(this.path)} was closed; open it again to read its images`,
        { code: "HOIST_TARBALL_CLOSED", operation },
      );
    }
  }

  /** The entry's bytes as a stream. The caller verifies them. */
  stream(location: EntryLocation, operation: string, signal?: AbortSignal): Readable {
    this.#checkOpen(operation);
    signal?.throwIfAborted();
    if (location.size === 0) return Readable.from([], { objectMode: false });
    const file = createReadStream(this.path, {
      start: location.offset,
      end: location.offset + location.size - 1,
    });
    // File-system errors reach consumers as typed errors; a consumer that stops early closes
    // the file.
    const output = new PassThrough();
    file.once("error", (error) => {
      output.destroy(
        new TarballError(
          `cannot read ${quote(location.name)} from tarball ${quote(this.path)} (${reason(error)})`,
          {
            code: this.#closed ? "HOIST_TARBALL_CLOSED" : "HOIST_TARBALL_READ_FAILED",
            operation,
            cause: error,
          },
        ),
      );
    });
    output.once("close", () => file.destroy());
    file.pipe(output);
    return signal ? addAbortSignal(signal, output) : output;
  }

  /** The first bytes of an entry (for sniffing compression). */
  async head(location: EntryLocation, length: number, operation: string): Promise<Uint8Array> {
    return this.#read(location, Math.min(length, location.size), operation);
  }

  /** A whole small entry (manifest.json, a config), refused above `maxBytes`. */
  async bytes(
    location: EntryLocation,
    maxBytes: number,
    operation: string,
    what: string,
  ): Promise<Uint8Array> {
    if (location.size > maxBytes) {
      throw new TarballError(
        `${what} ${quote(location.name)} is ${location.size} bytes, larger than the ${maxBytes} allowed`,
        { code: "HOIST_TARBALL_INVALID_MANIFEST", operation, input: location.name },
      );
    }
    return this.#read(location, location.size, operation);
  }

  async #read(location: EntryLocation, length: number, operation: string): Promise<Uint8Array> {
    this.#checkOpen(operation);
    try {
      const handle = await open(this.path, "r");
      try {
        const buffer = await readExactly(handle, length, location.offset);
        if (buffer.length < length) {
          throw new TarballError(
            `tarball ${quote(this.path)} changed while it was read: ${quote(location.name)} ends early`,
            { code: "HOIST_TARBALL_TRUNCATED", operation, input: location.name },
          );
        }
        return buffer;
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (TarballError.is(error)) throw error;
      throw new TarballError(
        `cannot read ${quote(location.name)} from tarball ${quote(this.path)} (${reason(error)})`,
        {
          code: this.#closed ? "HOIST_TARBALL_CLOSED" : "HOIST_TARBALL_READ_FAILED",
          operation,
          cause: error,
        },
      );
    }
  }
}
