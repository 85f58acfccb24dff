import { pack } from "tar-stream";
import { TarballError } from "./errors.js";
import type { Output } from "./output.js";

/** @internal The header fields this package writes (tar-stream's names). */
export interface EntryHeader {
  name: string;
  type?: "file" | "link" | "symlink" | "directory" | "character-device" | "block-device" | "fifo";
  size?: number;
  mode?: number;
  mtime?: Date;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

type Sink = ReturnType<ReturnType<typeof pack>["entry"]>;

/** Reproducible archives: every entry written with the Unix epoch as its time. */
export const EPOCH = new Date(0);

/**
 * @internal Writes a tar archive through tar-stream into an {@link Output}, one entry at a time,
 * with backpressure from the output all the way back to the entry's source: memory holds at most
 * a few chunks whatever the entry's size. Reports every byte written to `onBytes`.
 */
export class TarWriter {
  readonly #pack = pack();
  readonly #pumped: Promise<void>;
  #failure: unknown;
  readonly #failed: Promise<never>;
  #fail!: (error: unknown) => void;

  constructor(output: Output, options: { onBytes?: (count: number) => void }) {
    this.#failed = new Promise<never>((_, reject) => {
      this.#fail = (error) => {
        if (this.#failure === undefined) this.#failure = error ?? new Error("tar writer failed");
        reject(this.#failure);
      };
    });
    this.#failed.catch(() => {});
    const archive = this.#pack;
    archive.on("error", () => {});
    this.#pumped = (async () => {
      for await (const chunk of archive as AsyncIterable<Uint8Array>) {
        await output.write(chunk);
        options.onBytes?.(chunk.byteLength);
      }
    })();
    this.#pumped.catch((error: unknown) => {
      this.#fail(error);
      archive.destroy(error as Error);
    });
  }

  #checkFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Writes one entry; `body` must yield exactly `header.size` bytes (0 when omitted). */
  async entry(header: EntryHeader, body?: AsyncIterable<Uint8Array> | Uint8Array): Promise<void> {
    this.#checkFailed();
    let done!: Promise<void>;
    let sink!: Sink;
    done = new Promise<void>((resolve, reject) => {
      sink = this.#pack.entry(
        { mtime: EPOCH, mode: header.type === "directory" ? 0o755 : 0o644, ...header },
        (error?: Error | null) => (error ? reject(error) : resolve()),
      );
    });
    done.catch(() => {});
    // Failures reach the caller through the entry's callback; without a listener, an emitted
    // 'error' would be thrown at whoever destroyed the archive.
    sink.on("error", () => {});
    try {
      if (body instanceof Uint8Array) {
        if (body.byteLength > 0 && !sink.write(body)) await this.#drain(sink);
      } else if (body) {
        for await (const chunk of body) {
          this.#checkFailed();
          if (!sink.write(chunk)) await this.#drain(sink);
        }
      }
      // streamx's types demand an argument that its end() does not need.
      (sink as unknown as { end(): void }).end();
      await Promise.race([done, this.#failed]);
    } catch (error) {
      this.abort(error);
      throw this.#failure ?? error;
    }
  }

  #drain(sink: Sink): Promise<void> {
    return Promise.race([
      new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          sink.off("error", onError);
          resolve();
        };
        const onError = (error: unknown) => {
          sink.off("drain", onDrain);
          reject(error);
        };
        sink.once("drain", onDrain);
        sink.once("error", onError);
      }),
      this.#failed,
    ]);
  }

  /** Ends the archive and waits until the output took every byte. */
  async finish(): Promise<void> {
    this.#checkFailed();
    this.#pack.finalize();
    await Promise.race([this.#pumped, this.#failed]);
  }

  /** Stops writing: the archive is left incomplete. */
  abort(error: unknown): void {
    this.#fail(
      error ??
        new TarballError("writing the archive was aborted", {
          code: "HOIST_TARBALL_WRITE_FAILED",
          operation: "write tar",
        }),
    );
    this.#pack.destroy(error instanceof Error ? error : undefined);
  }
}
