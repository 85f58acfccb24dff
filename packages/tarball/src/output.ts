import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Writable } from "node:stream";
import { invalidArgument, quote, reason, TarballError } from "./errors.js";

/** Where bytes go: a file path, or a writable stream. */
export type OutputTarget = string | NodeJS.WritableStream;

/** @internal An output being written; `commit` publishes it, `abort` discards what it can. */
export interface Output {
  write(chunk: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

function writeFailed(message: string, operation: string, cause: unknown): TarballError {
  return new TarballError(message, { code: "HOIST_TARBALL_WRITE_FAILED", operation, cause });
}

/** @internal Resolves when `stream` can take more, rejects if it fails or closes first. */
function drained(stream: NodeJS.WritableStream, operation: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.removeListener("drain", onDrain);
      stream.removeListener("error", onError);
      stream.removeListener("close", onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (error: unknown) => {
      cleanup();
      reject(writeFailed(`the output stream failed (${reason(error)})`, operation, error));
    };
    const onClose = () => {
      cleanup();
      reject(
        writeFailed("the output stream closed before everything was written", operation, undefined),
      );
    };
    stream.on("drain", onDrain);
    stream.on("error", onError);
    stream.on("close", onClose);
  });
}

function writeTo(
  stream: NodeJS.WritableStream,
  chunk: Uint8Array,
  operation: string,
): Promise<void> {
  let failure: unknown;
  const ok = stream.write(chunk, (error?: Error | null) => {
    if (error) failure = error;
  });
  if (failure)
    return Promise.reject(
      writeFailed(`the output stream failed (${reason(failure)})`, operation, failure),
    );
  return ok ? Promise.resolve() : drained(stream, operation);
}

function endStream(stream: NodeJS.WritableStream, operation: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: unknown) =>
      reject(writeFailed(`the output stream failed (${reason(error)})`, operation, error));
    stream.once("error", onError);
    stream.end(() => {
      stream.removeListener("error", onError);
      resolve();
    });
  });
}

/**
 * @internal Opens an output. A path is written to a temporary file beside it, flushed to disk
 * and renamed over the target only once complete, so a failed write never leaves a partial
 * file under the target's name. A stream is written as is and ended on commit unless
 * `end: false`; after a failure it may hold a partial archive, which the caller owns.
 */
export async function openOutput(
  target: OutputTarget,
  options: { operation: string; end?: boolean },
): Promise<Output> {
  const { operation } = options;
  if (typeof target === "string") {
    if (target === "")
      throw invalidArgument("expected an output path, got an empty string", operation);
    const temporary = join(
      dirname(target),
      `.${basename(target)}.${randomBytes(6).toString("hex")}.hoist-partial`,
    );
    let handle: FileHandle;
    try {
      handle = await open(temporary, "wx", 0o644);
    } catch (error) {
      throw writeFailed(
        `cannot create ${quote(temporary)} next to ${quote(target)} (${reason(error)}); check that the directory exists and is writable`,
        operation,
        error,
      );
    }
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await handle.close();
    };
    let position = 0;
    return {
      write: async (chunk) => {
        try {
          let written = 0;
          while (written < chunk.byteLength) {
            const { bytesWritten } = await handle.write(
              chunk,
              written,
              chunk.byteLength - written,
              position,
            );
            written += bytesWritten;
            position += bytesWritten;
          }
        } catch (error) {
          throw writeFailed(
            `cannot write ${quote(temporary)} (${reason(error)})`,
            operation,
            error,
          );
        }
      },
      commit: async () => {
        try {
          await handle.sync();
          await close();
          await rename(temporary, target);
        } catch (error) {
          await close().catch(() => {});
          await rm(temporary, { force: true });
          throw writeFailed(
            `cannot complete ${quote(target)} (${reason(error)})`,
            operation,
            error,
          );
        }
      },
      abort: async () => {
        await close().catch(() => {});
        await rm(temporary, { force: true });
      },
    };
  }
  if (
    typeof target !== "object" ||
    target === null ||
    typeof (target as NodeJS.WritableStream).write !== "function"
  ) {
    throw invalidArgument("expected an output file path or a writable stream", operation);
  }
  if (target instanceof Writable && (target.destroyed || target.writableEnded)) {
    throw invalidArgument("the output stream is already ended or destroyed", operation);
  }
  return {
    write: (chunk) => writeTo(target, chunk, operation),
    commit: async () => {
      if (options.end !== false) await endStream(target, operation);
    },
    abort: async () => {},
  };
}
