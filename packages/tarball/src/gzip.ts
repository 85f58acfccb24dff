import { Duplex, Transform, type TransformCallback } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import { TarballError } from "./errors.js";

/** How a blob is compressed, by its magic number. */
export type Compression = "gzip" | "zstd" | "none";

/** @internal Detects gzip and zstd by their magic numbers. */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (
    head.length >= 4 &&
    head[0] === 0x28 &&
    head[1] === 0xb5 &&
    head[2] === 0x2f &&
    head[3] === 0xfd
  ) {
    return "zstd";
  }
  return "none";
}

// The 10th byte of a gzip header names the OS that wrote it; zlib fills in the build platform.
// Writing 255 ("unknown") as @hoist/oci does keeps a layer gzipped here byte-identical to the
// same tar gzipped by @hoist/oci's layer builders at the same level, on every platform.
const OS_BYTE = 9;
const OS_UNKNOWN = 0xff;

class PatchOsByte extends Transform {
  #offset = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#offset <= OS_BYTE && this.#offset + chunk.length > OS_BYTE) {
      chunk[OS_BYTE - this.#offset] = OS_UNKNOWN;
    }
    this.#offset += chunk.length;
    callback(null, chunk);
  }
}

/** @internal Pipeline stages that gzip deterministically (no time, OS "unknown"). */
export function gzipStages(level: number): Transform[] {
  return [createGzip({ level }), new PatchOsByte()];
}

// zlib's gunzip wrapped so that its bare errors ("unexpected end of file") reach consumers as
// typed errors, with backpressure held in both directions.
class Gunzip extends Duplex {
  readonly #inner = createGunzip();

  constructor(subject: string, operation: string) {
    super();
    const inner = this.#inner;
    inner.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) inner.pause();
    });
    inner.on("end", () => this.push(null));
    inner.on("error", (error) =>
      this.destroy(
        new TarballError(`the gzip data of ${subject} is corrupt or truncated (${error.message})`, {
          code: "HOIST_TARBALL_DECOMPRESS_FAILED",
          operation,
          cause: error,
        }),
      ),
    );
  }

  override _read(): void {
    this.#inner.resume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error) => void,
  ): void {
    if (this.#inner.write(chunk)) callback();
    else this.#inner.once("drain", () => callback());
  }

  override _final(callback: (error?: Error) => void): void {
    this.#inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#inner.destroy();
    callback(error);
  }
}

/** @internal A gunzip stage whose failures are `HOIST_TARBALL_DECOMPRESS_FAILED`. */
export function gunzipStage(subject: string, operation: string): Duplex {
  return new Gunzip(subject, operation);
}

/** @internal The error for zstd layers. */
export function zstdUnsupported(subject: string, operation: string): TarballError {
  return new TarballError(
    `${subject} is zstd-compressed and hoist cannot decompress zstd; use a gzip or uncompressed layer`,
    { code: "HOIST_TARBALL_UNSUPPORTED_COMPRESSION", operation },
  );
}
