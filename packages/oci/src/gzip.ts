import { Duplex } from "node:stream";
import type { Gunzip, Gzip } from "node:zlib";
import { OciError } from "./errors.js";

// node:zlib is loaded on first use: pulls and pushes of already compressed layers never need
// it, and loading it costs every command ~2 ms on the 2-core machine.
function zlib(): typeof import("node:zlib") {
  return process.getBuiltinModule("node:zlib");
}

/** Default gzip level: zlib's default, as Docker and containerd use. */
export const DEFAULT_GZIP_LEVEL = 6;

// The 10th gzip header byte names the OS that wrote the stream; zlib fills in the build
// platform (3 on Unix, 10 on Windows). Writing 255 ("unknown", as Go does) keeps a layer's digest
// the same on every platform. The MTIME field is already zero in zlib's output.
const OS_BYTE = 9;
const OS_UNKNOWN = 0xff;

/** @internal Validates a gzip level (0–9). */
export function checkLevel(level: number, operation: string): number {
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new OciError(`gzip level must be an integer from 0 to 9, got ${level}`, {
      code: "HOIST_OCI_INVALID_ARGUMENT",
      operation,
    });
  }
  return level;
}

/** @internal Deterministic gzip of a buffer. */
export function gzipBytes(data: Uint8Array, level: number): Buffer {
  const output = zlib().gzipSync(data, { level: checkLevel(level, "gzip layer") });
  output[OS_BYTE] = OS_UNKNOWN;
  return output;
}

// Wraps a zlib stream so that backpressure holds end to end, the gzip header can be patched on
// the way out, and zlib's bare errors (Z_DATA_ERROR, "unexpected end of file") become OciErrors.
class ZlibStream extends Duplex {
  readonly #inner: Gzip | Gunzip;

  constructor(
    inner: Gzip | Gunzip,
    options: { patchHeader: boolean; translate: (error: Error) => Error },
  ) {
    super();
    this.#inner = inner;
    let offset = 0;
    inner.on("data", (chunk: Buffer) => {
      if (options.patchHeader && offset <= OS_BYTE && offset + chunk.length > OS_BYTE) {
        chunk[OS_BYTE - offset] = OS_UNKNOWN;
      }
      offset += chunk.length;
      if (!this.push(chunk)) inner.pause();
    });
    inner.on("end", () => this.push(null));
    inner.on("error", (error) => this.destroy(options.translate(error)));
  }

  override _read(): void {
    this.#inner.resume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.#inner.write(chunk)) callback();
    else this.#inner.once("drain", () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#inner.destroy();
    callback(error);
  }
}

/** Options for {@link createGzipStream}. */
export interface GzipStreamOptions {
  /** zlib level, 0 (store) to 9 (smallest); default {@link DEFAULT_GZIP_LEVEL}. */
  level?: number;
}

/**
 * A gzip stream whose output is deterministic: the header carries no time and "unknown" as its
 * OS, so the same bytes, level and zlib give the same blob (and digest) on every platform, the
 * same bytes `layerFromBytes` and friends produce. For implementers of `Layer` that gzip.
 */
export function createGzipStream(options: GzipStreamOptions = {}): Duplex {
  const level = checkLevel(options.level ?? DEFAULT_GZIP_LEVEL, "gzip layer");
  return new ZlibStream(zlib().createGzip({ level }), {
    patchHeader: true,
    translate: (error) => error,
  });
}

/** Options for {@link createGunzipStream}. */
export interface GunzipStreamOptions {
  /** The `operation` of the error for corrupt data; default "gunzip". */
  operation?: string;
  /** What the data is, named in the error message (`layer "x"`). */
  subject?: string;
  /**
   * Turns the `HOIST_OCI_DECOMPRESS_FAILED` error into the caller's own (zlib's error stays its
   * `cause`), for implementers whose errors belong to another family.
   */
  translateError?: (error: OciError) => Error;
}

/**
 * A gunzip stream (concatenated members are read, as `gzip -d` does) with backpressure held both
 * ways, whose zlib failures reach the consumer as `HOIST_OCI_DECOMPRESS_FAILED`.
 */
export function createGunzipStream(options: GunzipStreamOptions = {}): Duplex {
  const { operation = "gunzip", subject, translateError = (error: OciError) => error } = options;
  const what = subject === undefined ? "the gzip data" : `the gzip data of ${subject}`;
  return new ZlibStream(zlib().createGunzip(), {
    patchHeader: false,
    translate: (error) =>
      translateError(
        new OciError(`${what} is corrupt or truncated (${error.message})`, {
          code: "HOIST_OCI_DECOMPRESS_FAILED",
          operation,
          cause: error,
        }),
      ),
  });
}

/** What the first bytes of a blob say about its compression. */
export type Compression = "gzip" | "zstd" | "none";

/** Names a blob's compression from its first bytes (gzip's or zstd's magic number; 4 suffice). */
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

/** @internal The error for zstd input, which Node's zlib cannot decode before 22.15. */
export function zstdUnsupported(operation: string): OciError {
  return new OciError(
    "the layer is zstd-compressed and hoist cannot decompress zstd; use a gzip or uncompressed layer",
    { code: "HOIST_OCI_UNSUPPORTED_COMPRESSION", operation },
  );
}
