import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { quote, reason, TarballError } from "./errors.js";

/**
 * @internal A temporary directory for bytes whose size must be known before they can be written
 * into a tar header (a streamed layer, a layer written uncompressed). Created on first use and
 * removed by `cleanup`.
 */
export class Staging {
  readonly #parent: string;
  readonly #operation: string;
  #directory: Promise<string> | undefined;
  #count = 0;

  constructor(options: { tempDirectory?: string; operation: string }) {
    this.#parent = options.tempDirectory ?? tmpdir();
    this.#operation = options.operation;
  }

  async #dir(): Promise<string> {
    this.#directory ??= mkdtemp(join(this.#parent, "hoist-staging-")).catch((error: unknown) => {
      this.#directory = undefined;
      throw new TarballError(
        `cannot create a staging directory in ${quote(this.#parent)} (${reason(error)}); set tempDirectory to a writable directory`,
        { code: "HOIST_TARBALL_WRITE_FAILED", operation: this.#operation, cause: error },
      );
    });
    return this.#directory;
  }

  /** Writes `source` through `stages` into a new staged file; returns its path and size. */
  async stage(
    source: Readable,
    stages: Transform[],
    signal: AbortSignal | undefined,
  ): Promise<{ path: string; size: number }> {
    const path = join(await this.#dir(), `blob-${++this.#count}`);
    try {
      await pipeline([source, ...stages, createWriteStream(path, { flags: "wx" })], { signal });
    } catch (error) {
      if (TarballError.is(error) || signal?.aborted) throw error;
      const system =
        typeof (error as NodeJS.ErrnoException).code === "string" &&
        (error as NodeJS.ErrnoException).syscall;
      if (!system) throw error;
      throw new TarballError(`cannot stage a layer in ${quote(path)} (${reason(error)})`, {
        code: "HOIST_TARBALL_WRITE_FAILED",
        operation: this.#operation,
        cause: error,
      });
    }
    return { path, size: (await stat(path)).size };
  }

  /** A staged file's bytes. */
  read(path: string): Readable {
    return createReadStream(path);
  }

  async cleanup(): Promise<void> {
    const directory = await this.#directory?.catch(() => undefined);
    if (directory) await rm(directory, { recursive: true, force: true });
  }
}
