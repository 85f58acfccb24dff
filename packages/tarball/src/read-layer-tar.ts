import { Readable } from "node:stream";
import { extract, type Header } from "tar-stream";
import { safeEntryName } from "./entry-path.js";
import { invalidArgument, TarballError } from "./errors.js";

/** The kinds of tar entries a layer holds. */
export type LayerEntryType =
  | "file"
  | "directory"
  | "symlink"
  | "link"
  | "character-device"
  | "block-device"
  | "fifo"
  | "other";

/** One entry of a layer tar, with its name checked and cleaned. */
export interface LayerTarEntry {
  /** The cleaned relative name: "usr/bin/env" for "./usr/bin/env"; "." for the root. */
  name: string;
  /** The name exactly as stored. */
  rawName: string;
  type: LayerEntryType;
  /** Data bytes (0 for everything but files). */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: Date;
  /**
   * A symlink's target as stored, or a hard link's target cleaned and relative to the root
   * (checked like a name). Empty for other types.
   */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** pax records other than the ones that set the name, link target and size (xattrs, times). */
  pax: Record<string, string>;
  /** The data. Read it before asking for the next entry, or it is skipped. */
  body: Readable;
}

export interface ReadLayerTarOptions {
  signal?: AbortSignal;
  /** Named in errors, e.g. "export image". Default: "read layer tar". */
  operation?: string;
  /** Names the tar in errors, e.g. `layer sha256:…`. Default: "the layer tar". */
  subject?: string;
}

// tar-stream reports problems as bare Errors; these are the ones it raises about the input.
function translate(error: unknown, subject: string, operation: string): unknown {
  if (TarballError.is(error) || !(error instanceof Error)) return error;
  if (error.message === "Unexpected end of data") {
    return new TarballError(`${subject} is truncated: it ends in the middle of an entry`, {
      code: "HOIST_TARBALL_TRUNCATED",
      operation,
      cause: error,
    });
  }
  if (/tar header|Header exceeds|Invalid header/i.test(error.message)) {
    return new TarballError(`${subject} is not a valid tar archive (${error.message})`, {
      code: "HOIST_TARBALL_INVALID_ARCHIVE",
      operation,
      cause: error,
    });
  }
  return error;
}

function entryType(type: Header["type"] | null | undefined): LayerEntryType {
  switch (type) {
    case "file":
    case "contiguous-file":
      return "file";
    case "directory":
    case "symlink":
    case "link":
    case "character-device":
    case "block-device":
    case "fifo":
      return type;
    default:
      return "other";
  }
}

// The parts of tar-stream's entry stream (a streamx Readable) used here.
interface TarSource {
  on(event: string, listener: (...args: never[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

interface Pending {
  header: Header;
  stream: TarSource;
  next: (error?: Error | null) => void;
}

// Bridges one tar-stream entry (a streamx stream) to a Node Readable with backpressure. When the
// consumer stops early, the rest is discarded so the archive can move on.
function bridge(
  stream: TarSource,
  translateError: (error: unknown) => unknown,
): { body: Readable; discard: () => Promise<void> } {
  let discarding = false;
  const ended = new Promise<void>((resolve, reject) => {
    stream.on("end", () => resolve());
    stream.on("error", (error: Error) => reject(error));
    stream.on("close", () => resolve());
  });
  ended.catch(() => {});
  const body = new Readable({
    read() {
      stream.resume();
    },
    destroy(error, callback) {
      discarding = true;
      stream.resume();
      callback(error);
    },
  });
  stream.on("data", (chunk: Uint8Array) => {
    if (discarding) return;
    if (!body.push(chunk)) stream.pause();
  });
  stream.on("end", () => {
    if (!discarding) body.push(null);
  });
  stream.on("error", (error: Error) => body.destroy(translateError(error) as Error));
  return {
    body,
    discard: async () => {
      discarding = true;
      stream.resume();
      await ended;
    },
  };
}

function emptyBody(): { body: Readable; discard: () => Promise<void> } {
  return { body: Readable.from([]), discard: async () => {} };
}

/**
 * Reads an uncompressed layer tar entry by entry. Names are cleaned and refused with
 * `HOIST_TARBALL_UNSAFE_PATH` when they are absolute or climb above the root (as are hard link
 * targets); symlink targets are passed on as stored. Truncated or corrupt archives fail with
 * `HOIST_TARBALL_TRUNCATED` / `HOIST_TARBALL_INVALID_ARCHIVE`. The whole input is read, so a
 * verifying source reaches its end and checks its digest.
 */
export async function* readLayerTar(
  source: Readable | AsyncIterable<Uint8Array>,
  options: ReadLayerTarOptions = {},
): AsyncGenerator<LayerTarEntry, void, undefined> {
  const operation = options.operation ?? "read layer tar";
  const subject = options.subject ?? "the layer tar";
  const signal = options.signal;
  if (typeof source !== "object" || source === null || !(Symbol.asyncIterator in source)) {
    throw invalidArgument("expected a Readable or an async iterable of bytes", operation);
  }
  signal?.throwIfAborted();
  const parser = extract();
  const queue: Pending[] = [];
  let failure: unknown;
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  parser.on("entry", (header, stream, next) => {
    queue.push({ header, stream: stream as unknown as TarSource, next });
    notify();
  });
  parser.on("error", (error: Error) => {
    failure ??= translate(error, subject, operation);
    notify();
  });
  parser.on("finish", () => {
    finished = true;
    notify();
  });
  const fail = (error: unknown) => {
    failure ??= translate(error, subject, operation);
    parser.destroy(failure instanceof Error ? failure : undefined);
    notify();
  };
  const onAbort = () => fail(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });

  const feeding = (async () => {
    for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
      if (failure !== undefined) return;
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      if (!parser.write(bytes)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            parser.off("drain", done);
            parser.off("close", done);
            resolve();
          };
          parser.on("drain", done);
          parser.on("close", done);
        });
      }
    }
    if (failure === undefined) (parser as unknown as { end(): void }).end();
  })();
  feeding.catch(fail);

  let current: { discard: () => Promise<void> } | undefined;
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const pending = queue.shift();
      if (!pending) {
        if (finished) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const { header, stream, next } = pending;
      // The entry's stream fails with the parser when the parser fails, and that failure is
      // reported once, through the parser; without a listener it would also crash the process.
      stream.on("error", () => {});
      // tar-stream lets an undecodable size through as null (a base-256 field it cannot read)
      // and then waits forever for the entry's data: such a header is refused here.
      if (!Number.isSafeInteger(header.size) || (header.size ?? -1) < 0) {
        throw new TarballError(
          `${subject} has an entry ${JSON.stringify(String(header.name).slice(0, 200))} whose size field cannot be read`,
          {
            code: "HOIST_TARBALL_INVALID_ARCHIVE",
            operation,
            input: String(header.name).slice(0, 200),
          },
        );
      }
      // tar-stream reads a directory's header only (as Go's archive/tar does: no data follows
      // it, whatever its size field says) and never ends its stream when that size is not 0.
      // Waiting for that end would hang on such an archive; the body of a directory is empty.
      const bridged =
        header.type === "directory"
          ? emptyBody()
          : bridge(stream, (error) => failure ?? translate(error, subject, operation));
      current = bridged;
      const type = entryType(header.type);
      const name = safeEntryName(header.name, operation);
      const linkname =
        type === "link"
          ? safeEntryName(
              header.linkname ?? "",
              operation,
              `hard link target of ${JSON.stringify(name)}`,
            )
          : type === "symlink"
            ? (header.linkname ?? "")
            : "";
      if (type === "link" && linkname === ".") {
        throw new TarballError(
          `${subject} has a hard link ${JSON.stringify(header.name)} without a target`,
          { code: "HOIST_TARBALL_INVALID_ARCHIVE", operation, input: header.name },
        );
      }
      const pax: Record<string, string> = {};
      for (const [key, value] of Object.entries((header.pax ?? {}) as Record<string, string>)) {
        if (key !== "path" && key !== "linkpath" && key !== "size") pax[key] = value;
      }
      yield {
        name,
        rawName: header.name,
        type,
        size: type === "file" ? header.size : 0,
        mode: header.mode ?? 0,
        uid: header.uid ?? 0,
        gid: header.gid ?? 0,
        uname: header.uname ?? "",
        gname: header.gname ?? "",
        mtime: header.mtime ?? new Date(0),
        linkname,
        devmajor: header.devmajor ?? 0,
        devminor: header.devminor ?? 0,
        pax,
        body: bridged.body,
      };
      await bridged.discard();
      current = undefined;
      next();
    }
    await feeding;
    if (failure !== undefined) throw failure;
  } catch (error) {
    fail(error);
    throw failure ?? error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (current || !finished) {
      // The consumer stopped early or something failed: release the source.
      failure ??= new Error("stopped");
      parser.destroy();
      if (source instanceof Readable) source.destroy();
    }
  }
}
