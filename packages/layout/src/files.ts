import { randomBytes } from "node:crypto";
import { closeSync, fdatasync, fsync, openSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { errnoCode, ioError } from "./errors.js";

// Temporary files live in the layout's root, not under blobs/: tools that walk blobs/ (such as
// go-containerregistry's garbage collector) take every file there for a blob and fail on
// anything else. The name can never be a digest, so a leftover is never mistaken for a blob.

/** @internal Prefix of every temporary file this package creates in a layout's root. */
export const TEMP_PREFIX = ".hoist-tmp-";

// Random once per process, then counted: unique enough with O_EXCL, and a pull of many small
// blobs no longer asks for random bytes per file.
let tempStem: string | undefined;
let tempCount = 0;

/** @internal A fresh temporary file name in `directory`. */
export function tempPath(directory: string): string {
  tempStem ??= randomBytes(9).toString("hex");
  tempCount = (tempCount + 1) % Number.MAX_SAFE_INTEGER;
  return join(directory, `${TEMP_PREFIX}${tempStem}-${tempCount.toString(36)}`);
}

/** @internal A new file opened on the main thread; see {@link openNewFileSync}. */
export interface SyncFile {
  readonly fd: number;
  /** fdatasync, off the main thread. */
  datasync(): Promise<void>;
  /** fsync, off the main thread. */
  sync(): Promise<void>;
  /** Closes the descriptor; later calls do nothing. */
  close(): void;
}

/**
 * @internal Creates `path` (which must not exist) with the calls on the main thread. Opening,
 * closing and renaming a local file take microseconds; through the thread pool each took a
 * round trip and a wake-up of the main thread that cost more than the call on the 2-core
 * machine (BENCHMARKS.md, the change table: pull C 308 → 299 ms). Flushes stay off it.
 */
export function openNewFileSync(path: string): SyncFile {
  const fd = openSync(path, "wx", 0o644);
  let open = true;
  const flush = (call: typeof fsync) =>
    new Promise<void>((resolve, reject) => {
      call(fd, (error) => (error ? reject(error) : resolve()));
    });
  return {
    fd,
    datasync: () => flush(fdatasync),
    sync: () => flush(fsync),
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/** @internal Flushes a directory entry (a rename) to disk; some file systems refuse, harmlessly. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r").catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync().catch(() => {});
  } finally {
    await handle.close();
  }
}

/**
 * @internal Replaces `path` so that readers, and a crash at any moment, see the old content or the
 * new, never a mix: a temporary file in the same directory, fsync, rename, fsync the directory.
 * A link at `path` is replaced, not followed, so the write stays inside the layout.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: { operation: string; signal?: AbortSignal },
): Promise<void> {
  await writeFilesAtomic([{ path, data }], options);
}

/**
 * @internal {@link writeFileAtomic} for several files: their temporary files are written and
 * flushed side by side, then renamed into place in the order given (a crash leaves a prefix of
 * them replaced), and each directory is flushed once. Making a layout this way waits for two
 * flushes instead of four.
 */
export async function writeFilesAtomic(
  files: ReadonlyArray<{ path: string; data: Uint8Array | string }>,
  options: { operation: string; signal?: AbortSignal },
): Promise<void> {
  const temps = files.map(({ path }) => tempPath(dirname(path)));
  const renamed = new Set<number>();
  let failed: { path: string; error: unknown } | undefined;
  options.signal?.throwIfAborted();
  try {
    await Promise.all(
      files.map(async ({ path, data }, index) => {
        try {
          const handle = await open(temps[index] as string, "wx", 0o644);
          try {
            await handle.writeFile(data);
            await handle.sync();
          } finally {
            await handle.close();
          }
        } catch (error) {
          failed ??= { path, error };
        }
      }),
    );
    if (failed)
      throw ioError(failed.error, "HOIST_LAYOUT_WRITE_FAILED", options.operation, failed.path);
    options.signal?.throwIfAborted();
    for (const [index, { path }] of files.entries()) {
      try {
        await rename(temps[index] as string, path);
      } catch (error) {
        throw ioError(error, "HOIST_LAYOUT_WRITE_FAILED", options.operation, path);
      }
      renamed.add(index);
    }
  } finally {
    await Promise.all(
      temps.map((temp, index) => (renamed.has(index) ? undefined : unlink(temp).catch(() => {}))),
    );
  }
  await Promise.all([...new Set(files.map(({ path }) => dirname(path)))].map(syncDirectory));
}

/** @internal What {@link readCapped} found. */
export type CappedRead =
  | { kind: "missing" }
  | { kind: "too-large"; size: number }
  | { kind: "read"; bytes: Uint8Array };

/**
 * @internal Reads a small file, refusing (without reading it) one over `maxBytes`; at most
 * `maxBytes + 1` bytes are ever read, so a file that grows meanwhile costs no more than the cap.
 */
export async function readCapped(
  path: string,
  maxBytes: number,
  options: { operation: string; signal?: AbortSignal },
): Promise<CappedRead> {
  options.signal?.throwIfAborted();
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return { kind: "missing" };
    throw ioError(error, "HOIST_LAYOUT_READ_FAILED", options.operation, path);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw Object.assign(new Error(`${path} is not a regular file`), { code: "EISDIR" });
    }
    if (info.size > maxBytes) return { kind: "too-large", size: info.size };
    // One byte past the size notices a file that grew past the cap since the stat.
    const limit = Math.min(info.size + 1, maxBytes + 1);
    const buffer = Buffer.alloc(limit);
    let length = 0;
    while (length < limit) {
      const { bytesRead } = await handle.read(buffer, length, limit - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return { kind: "too-large", size: length };
    return { kind: "read", bytes: buffer.subarray(0, length) };
  } catch (error) {
    throw ioError(error, "HOIST_LAYOUT_READ_FAILED", options.operation, path);
  } finally {
    await handle.close();
  }
}
