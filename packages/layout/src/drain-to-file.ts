import { writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { finished, type Readable } from "node:stream";
import { DRAIN, type Drainable } from "@hoist/oci";

/**
 * Bytes queued for the file before the source is paused; it resumes once the queue is half
 * that. While one write is under way the next chunks gather, so each write takes all of them.
 */
const QUEUE_LIMIT = 2 * 1024 * 1024;

/**
 * Written bytes after which the file is flushed (fdatasync, off the main thread) while the
 * download goes on. Linux holds dirty pages until a gigabyte or more piles up, so a single
 * fsync at the end made a 256 MiB pull wait ~130 ms for the whole file to reach the disk after
 * its last byte; flushed along the way, the last fsync has at most a few MiB left to write.
 */
const FLUSH_EVERY = 8 * 1024 * 1024;

/**
 * @internal Writes a {@link Drainable} source into a file handle with `writeSync`, each view as
 * it comes and before the source reads again, so that a source reusing one buffer for every
 * read can keep doing so. The same promises as {@link drainToFile}: the file is flushed every
 * FLUSH_EVERY bytes off the main thread, the first failed flush fails the write, and nothing is
 * still writing when it settles.
 *
 * Writes to the page cache cost about what the copy into a new buffer per read costs the stream
 * path, without the allocation: a minimal client pulling 256 MiB this way took 330 ms against
 * 520 ms reading the same socket as a stream (BENCHMARKS.md, "Reused buffers").
 */
export async function drainIntoFile(
  source: Drainable,
  handle: FlushableFile,
  options: DrainOptions,
): Promise<void> {
  const { failed, onBytes, signal } = options;
  signal?.throwIfAborted();
  let unflushed = 0;
  let flushing: Promise<void> | undefined;
  let flushError: { error: unknown } | undefined;
  try {
    await source[DRAIN]((view) => {
      if (signal?.aborted) throw signal.reason;
      if (flushError) throw failed(flushError.error);
      try {
        for (let at = 0; at < view.length; ) at += writeSync(handle.fd, view, at);
      } catch (error) {
        throw failed(error);
      }
      onBytes?.(view.length);
      unflushed += view.length;
      if (unflushed >= FLUSH_EVERY && flushing === undefined) {
        unflushed = 0;
        flushing = handle.datasync().then(
          () => {
            flushing = undefined;
          },
          (error: unknown) => {
            flushing = undefined;
            flushError ??= { error };
          },
        );
      }
    });
  } finally {
    // Never settle with a flush still running: the caller closes the handle next.
    await flushing;
  }
  if (flushError) throw failed(flushError.error);
}

/** @internal What {@link drainIntoFile} needs of a file: a descriptor, and a flush off the main thread. */
export interface FlushableFile {
  readonly fd: number;
  datasync(): Promise<void>;
}

export interface DrainOptions {
  /** Wraps a failure of the file (a write or a flush) in the caller's error. */
  failed: (error: unknown) => Error;
  /** Called with the byte count of each write once it has reached the file. */
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal;
}

/**
 * @internal Reads `source` to its end into a file handle that stays the caller's to fsync and
 * close. It resolves once every byte is written and any flush along the way has succeeded, and
 * rejects with the first failure: the source's own error (a reset connection, a digest
 * mismatch) as it is, a failure of the file through `failed`, an abort with the signal's
 * reason. It never settles while a write is still under way, so the caller may close the handle
 * as soon as it does.
 *
 * A Writable in a pipeline does the same with a callback and a buffered entry per chunk. In a
 * minimal client on the 2-core machine that cost a 256 MiB download ~145 ms from its first byte
 * to its last write (15 alternating runs); in hoist the gain shows only together with the
 * executable's paced collections (BENCHMARKS.md), since fewer objects per chunk also mean later
 * young-generation collections and more spent buffers waiting for one.
 */
export function drainToFile(
  source: Readable,
  handle: FileHandle,
  options: DrainOptions,
): Promise<void> {
  const { failed, onBytes, signal } = options;
  return new Promise<void>((resolve, reject) => {
    let queue: Buffer[] = [];
    let queued = 0;
    let writing = false;
    let ended = false;
    let unflushed = 0;
    let flushing: Promise<void> | undefined;
    // A failed fdatasync may clear the kernel's error state, so a later fsync could succeed over
    // lost pages: the first failure is kept and fails the write.
    let flushError: { error: unknown } | undefined;
    let failure: { error: unknown } | undefined;

    let stopWatching = () => {};
    const cleanup = () => {
      source.off("data", onData);
      stopWatching();
      signal?.removeEventListener("abort", onAbort);
      // A destroyed source may still report an error; it is no longer anyone's to handle.
      source.on("error", ignore);
    };
    const settle = () => {
      if (writing) return;
      cleanup();
      const done = flushing ?? Promise.resolve();
      done.then(() => {
        if (failure) reject(failure.error);
        else if (flushError) reject(failed(flushError.error));
        else resolve();
      });
    };
    const fail = (error: unknown) => {
      if (failure) return;
      failure = { error };
      queue = [];
      queued = 0;
      if (!source.destroyed) source.destroy();
      settle();
    };
    const flush = () => {
      unflushed = 0;
      flushing = handle.datasync().then(
        () => {
          flushing = undefined;
        },
        (error: unknown) => {
          flushError ??= { error };
          flushing = undefined;
        },
      );
    };
    const write = () => {
      if (writing || failure) return;
      if (queue.length === 0) {
        if (ended) settle();
        return;
      }
      const buffers = queue;
      const bytes = queued;
      queue = [];
      queued = 0;
      writing = true;
      writeAll(handle, buffers).then(
        () => {
          writing = false;
          if (failure) return settle();
          if (flushError) return fail(failed(flushError.error));
          try {
            onBytes?.(bytes);
          } catch (error) {
            // A progress callback that throws ends the write with its error, as a stream stage
            // that throws would.
            return fail(error);
          }
          unflushed += bytes;
          if (unflushed >= FLUSH_EVERY && flushing === undefined) flush();
          if (source.isPaused() && !ended && queued < QUEUE_LIMIT / 2) source.resume();
          write();
        },
        (error: unknown) => {
          writing = false;
          fail(failed(error));
        },
      );
    };
    const onData = (chunk: Buffer) => {
      if (failure) return;
      queue.push(chunk);
      queued += chunk.length;
      if (queued >= QUEUE_LIMIT) source.pause();
      write();
    };
    // finished() also answers for a source that ended, failed or closed before it came here
    // (a verifier that found a wrong digest while nobody read it yet).
    const onFinished = (error: Error | null | undefined) => {
      if (error) return fail(error);
      ended = true;
      write();
    };
    const onAbort = () => fail(signal?.reason);

    if (signal?.aborted) {
      fail(signal.reason);
      return;
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    source.on("data", onData);
    stopWatching = finished(source, { writable: false }, onFinished);
    // A source paused before it came here would otherwise never flow.
    source.resume();
  });
}

function ignore(): void {}

async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let skip =
    buffers.length === 1
      ? (await handle.write(buffers[0] as Buffer)).bytesWritten
      : (await handle.writev(buffers)).bytesWritten;
  // A short write is rare (a full disk reports an error instead); finish what is left in order.
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    let offset = skip;
    while (offset < buffer.length) {
      offset += (await handle.write(buffer, offset, buffer.length - offset)).bytesWritten;
    }
    skip = 0;
  }
}
