import { renameSync } from "node:fs";
import { open, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { pipeline as pipe, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type Hash,
  type HashAlgorithm,
  HashingStream,
  hashStream,
  isDrainable,
  SizeMismatchError,
  VerifyingStream,
} from "@hoist/oci";
import { drainIntoFile, drainToFile } from "./drain-to-file.js";
import { errnoCode, ioError, LayoutError } from "./errors.js";
import { FileReadStream } from "./file-read-stream.js";
import { openNewFileSync, type SyncFile, syncDirectory, tempPath } from "./files.js";
import { blobPath, safeBlobDirectory, validHash } from "./paths.js";

/** Bytes as the write functions accept them. */
export type BlobInput = Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** @internal */
export function toReadable(input: BlobInput): Readable {
  if (input instanceof Uint8Array) return Readable.from([input], { objectMode: false });
  if (input instanceof Readable) return input;
  return Readable.from(input, { objectMode: false });
}

/**
 * @internal Opens `blobs/<alg>/<hex>` for reading. A file whose size differs from `size` fails at
 * once with `@hoist/oci`'s SizeMismatchError (a truncated blob is found before a byte is read);
 * a missing one with `HOIST_LAYOUT_BLOB_NOT_FOUND`. The caller verifies the digest while reading.
 */
export async function openBlobFile(
  root: string,
  digest: Hash,
  options: { size?: number; operation: string; signal?: AbortSignal },
): Promise<{ stream: Readable; size: number }> {
  const { operation } = options;
  const path = blobPath(root, digest, operation);
  options.signal?.throwIfAborted();
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") {
      throw new LayoutError(
        `the layout has no blob ${digest} (expected at ${path}); the OCI spec lets a layout omit blobs, so copy the content from its source into the layout`,
        {
          code: "HOIST_LAYOUT_BLOB_NOT_FOUND",
          operation,
          path,
          digest: String(digest),
          cause: error,
        },
      );
    }
    throw ioError(error, "HOIST_LAYOUT_READ_FAILED", operation, path);
  }
  let size: number;
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new LayoutError(`${path} is not a regular file, so it cannot hold blob ${digest}`, {
        code: "HOIST_LAYOUT_READ_FAILED",
        operation,
        path,
        digest: String(digest),
      });
    }
    size = info.size;
    if (options.size !== undefined && size !== options.size) {
      throw new SizeMismatchError({
        expected: options.size,
        actual: size,
        kind: size > options.size ? "excess" : "truncated",
        operation,
        subject: `blob ${digest} at ${path}`,
      });
    }
  } catch (error) {
    await handle.close();
    throw ioError(error, "HOIST_LAYOUT_READ_FAILED", operation, path);
  }
  // 64 KiB reads, as Node's own file streams. Larger ones cut a push's CPU (1 MiB: 15-20% less)
  // but every read is a new buffer that V8 frees only when external memory has grown by 64 MiB,
  // so a push of four blobs at once peaked at 113 MiB instead of 79.
  const stream = new FileReadStream(handle);
  if (options.signal) {
    const signal = options.signal;
    const onAbort = () => stream.destroy(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    stream.once("close", () => signal.removeEventListener("abort", onAbort));
  }
  return { stream, size };
}

/**
 * @internal True when `blobs/<alg>/<hex>` exists and hashes to its name (and has `size` bytes,
 * when given). A corrupt file is reported as absent so that a write replaces it.
 */
export async function hasValidBlob(
  root: string,
  digest: Hash,
  options: { size?: number; operation: string; signal?: AbortSignal },
): Promise<boolean> {
  const path = blobPath(root, digest, options.operation);
  try {
    const info = await stat(path);
    if (!info.isFile() || (options.size !== undefined && info.size !== options.size)) return false;
  } catch (error) {
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return false;
    throw ioError(error, "HOIST_LAYOUT_READ_FAILED", options.operation, path);
  }
  const { stream } = await openBlobFile(root, digest, options);
  try {
    const { hash } = await hashStream(stream, {
      algorithm: digest.algorithm,
      signal: options.signal,
    });
    return hash.equals(digest);
  } catch (error) {
    throw ioError(error, "HOIST_LAYOUT_READ_FAILED", options.operation, path);
  }
}

/**
 * @internal Reads a small blob whole, verified against its digest (and size), refusing one over
 * `maxBytes` before reading it.
 */
export async function readBlobBytes(
  root: string,
  digest: Hash,
  options: { size?: number; maxBytes: number; operation: string; signal?: AbortSignal },
): Promise<Uint8Array> {
  const { operation } = options;
  const { stream, size } = await openBlobFile(root, digest, options);
  if (size > options.maxBytes) {
    stream.destroy();
    throw new LayoutError(
      `blob ${digest} is ${size} bytes, more than the ${options.maxBytes}-byte limit for reading it whole; read it as a stream`,
      { code: "HOIST_LAYOUT_INVALID_ARGUMENT", operation, digest: String(digest) },
    );
  }
  const chunks: Buffer[] = [];
  await pipeline(
    stream,
    new VerifyingStream({ digest, size, operation, subject: `blob ${digest}` }),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) chunks.push(chunk);
    },
    { signal: options.signal },
  );
  return Buffer.concat(chunks);
}

/** What a blob write did. */
export interface BlobWriteResult {
  digest: Hash;
  size: number;
  /** False when a verified copy was already in the layout and nothing was written. */
  written: boolean;
}

/** @internal */
export interface WriteBlobFileOptions {
  /** The digest the bytes must have. Omitted: computed while writing (a streamed layer). */
  digest?: Hash;
  /** The exact byte count, when known. */
  size?: number;
  /** The algorithm for a computed digest. Default sha256. */
  algorithm?: HashAlgorithm;
  operation: string;
  signal?: AbortSignal;
  /** Called with each chunk's length as it reaches the file. */
  onBytes?: (bytes: number) => void;
  /**
   * Called with the blob directory instead of flushing it here: the caller flushes each
   * directory once, after all its writes, before anything refers to the blobs (a tree write
   * of many blobs saves a directory fsync per blob). Default: flushed here, before returning.
   */
  deferDirectorySync?: (directory: string) => void;
  /**
   * Resolves `blobs/<alg>/` (checked to stay inside the layout; created with `create`, else
   * undefined while missing) in place of a check by this write: a tree write checks each
   * directory once for all its blobs rather than twice per blob, three file system calls each
   * time (a fifth of the main thread's work when pulling 64 small layers).
   */
  blobDirectory?: (algorithm: string, create: boolean) => Promise<string | undefined>;
  /**
   * Answers, for an existing `blobs/<alg>/`, whether a blob may already be in it; false skips
   * the existence check. A tree write lists each directory once instead of a stat per blob,
   * which in a new layout fails for every blob (a thread-pool round trip and a thrown error
   * each). Default: every blob is checked.
   */
  mayExist?: (directory: string, digest: Hash) => Promise<boolean>;
  /**
   * Waited for between flushing the temporary file and renaming it into place: a small blob can
   * be written while what it refers to still downloads, and appear only after that has landed.
   * A rejection removes the temporary file and fails the write with that error.
   */
  publishAfter?: Promise<unknown>;
}

/**
 * @internal Writes a blob atomically: the bytes stream into a temporary file in the layout's root,
 * verified against digest and size on the way (or hashed, when the digest is not known yet), the
 * file is flushed to disk, and only then renamed to `blobs/<alg>/<hex>`. A blob is therefore
 * visible under its name complete and verified or not at all; on any failure the temporary file is
 * removed. With a known digest, a verified copy already in place is kept and `open` is not called.
 */
export async function writeBlobFile(
  root: string,
  open: () => Promise<BlobInput>,
  options: WriteBlobFileOptions,
): Promise<BlobWriteResult> {
  const { operation, signal } = options;
  signal?.throwIfAborted();
  const known = options.digest === undefined ? undefined : validHash(options.digest, operation);
  if (known) {
    // Checked before any byte is read: a link out of the layout fails fast.
    const directory = options.blobDirectory
      ? await options.blobDirectory(known.algorithm, false)
      : await safeBlobDirectory(root, known.algorithm, { create: false, operation });
    if (
      directory &&
      (options.mayExist === undefined || (await options.mayExist(directory, known))) &&
      (await hasValidBlob(root, known, { size: options.size, operation, signal }))
    ) {
      options.onBytes?.(options.size ?? 0);
      return {
        digest: known,
        size: options.size ?? (await stat(blobPath(root, known, operation))).size,
        written: false,
      };
    }
  }
  const temp = tempPath(root);
  let renamed = false;
  try {
    const source = toReadable(await open());
    // A source that verifies itself against the same digest and size (a registry layer from
    // @hoist/remote) fails before its end on a mismatch, as a second verifier would: hashing
    // every byte twice would only cost time (a quarter of a pull's CPU).
    const checker: HashingStream | VerifyingStream =
      known && verifiesItself(source, known, options.size)
        ? source
        : known
          ? new VerifyingStream({
              digest: known,
              size: options.size,
              operation,
              subject: `blob ${known}`,
            })
          : new HashingStream({ algorithm: options.algorithm ?? "sha256" });
    // Only failures of the file itself become HOIST_LAYOUT_WRITE_FAILED; errors of the source
    // (a reset connection, a digest mismatch) keep their own type.
    const failed = (error: unknown) => {
      const wrapped = ioError(error, "HOIST_LAYOUT_WRITE_FAILED", operation, temp);
      return wrapped instanceof Error ? wrapped : new Error(String(wrapped));
    };
    // The checker's own errors reach the drain; a source error destroys the checker with it.
    const drain = { failed, onBytes: options.onBytes, signal };
    const flushed = (flush: Promise<void>) =>
      flush.catch((error: unknown) => {
        throw ioError(error, "HOIST_LAYOUT_WRITE_FAILED", operation, temp);
      });
    // A source that can hand over each read at once (a registry layer on a direct connection)
    // is written synchronously, and its read buffer is reused. Its file is then opened, closed
    // and renamed on the main thread as well; only the flushes wait on the thread pool.
    const direct = checker === source && isDrainable(checker);
    if (direct) {
      const file = openTempSync(temp, operation);
      try {
        await drainIntoFile(checker, file, drain);
        await flushed(file.sync());
      } finally {
        file.close();
      }
    } else {
      const handle = await openTemp(temp, operation);
      try {
        if (checker !== source) pipe(source, checker, ignore);
        await drainToFile(checker, handle, drain);
        await flushed(handle.sync());
      } finally {
        await handle.close();
      }
    }
    const digest = known ?? (checker as HashingStream).hash;
    const size =
      checker instanceof HashingStream ? checker.size : (checker as VerifyingStream).size;
    if (!known && options.size !== undefined && size !== options.size) {
      throw new SizeMismatchError({
        expected: options.size,
        actual: size,
        kind: size > options.size ? "excess" : "truncated",
        operation,
        subject: `streamed blob ${digest}`,
      });
    }
    await options.publishAfter;
    signal?.throwIfAborted();
    const directory = options.blobDirectory
      ? await options.blobDirectory(digest.algorithm, true)
      : await safeBlobDirectory(root, digest.algorithm, { create: true, operation });
    const target = blobPath(root, digest, operation);
    try {
      if (direct) renameSync(temp, target);
      else await rename(temp, target);
    } catch (error) {
      throw ioError(error, "HOIST_LAYOUT_WRITE_FAILED", operation, target);
    }
    renamed = true;
    if (options.deferDirectorySync) options.deferDirectorySync(directory ?? dirname(target));
    else await syncDirectory(directory ?? dirname(target));
    return { digest, size, written: true };
  } catch (error) {
    // pipeline rejects with its own AbortError; callers get the reason they aborted with.
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    if (!renamed) await unlink(temp).catch(() => {});
  }
}

/** Whether a stream is @hoist/oci's verifier for exactly this digest and size. */
function verifiesItself(
  source: Readable,
  digest: Hash,
  size: number | undefined,
): source is VerifyingStream {
  return (
    source instanceof VerifyingStream &&
    source.expected.equals(digest) &&
    (size === undefined || source.expectedSize === size)
  );
}

async function openTemp(path: string, operation: string) {
  try {
    return await open(path, "wx", 0o644);
  } catch (error) {
    throw ioError(error, "HOIST_LAYOUT_WRITE_FAILED", operation, path);
  }
}

function openTempSync(path: string, operation: string): SyncFile {
  try {
    return openNewFileSync(path);
  } catch (error) {
    throw ioError(error, "HOIST_LAYOUT_WRITE_FAILED", operation, path);
  }
}

function ignore(): void {}
