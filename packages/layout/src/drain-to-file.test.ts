import { type FileHandle, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { DRAIN, type Drainable } from "@hoist/oci";
import { describe, expect, it } from "vitest";
import { drainIntoFile, drainToFile } from "./drain-to-file.js";

const MiB = 1024 * 1024;

/** A file handle that keeps what is written and answers writes and fdatasync as told. */
function fakeHandle(options: {
  datasync?: () => Promise<void>;
  write?: (bytes: number) => Promise<void>;
}) {
  const written: Buffer[] = [];
  let flushes = 0;
  let writes = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const track = async <T>(bytes: number, result: () => T): Promise<T> => {
    writes += 1;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await options.write?.(bytes);
      return result();
    } finally {
      inFlight -= 1;
    }
  };
  const handle = {
    write(buffer: Buffer, offset = 0, length = buffer.length - offset) {
      return track(length, () => {
        written.push(Buffer.from(buffer.subarray(offset, offset + length)));
        return { bytesWritten: length, buffer };
      });
    },
    writev(buffers: Buffer[]) {
      const bytes = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
      return track(bytes, () => {
        for (const buffer of buffers) written.push(Buffer.from(buffer));
        return { bytesWritten: bytes, buffers };
      });
    },
    datasync() {
      flushes += 1;
      return options.datasync?.() ?? Promise.resolve();
    },
  };
  return {
    handle: handle as unknown as FileHandle,
    written: () => Buffer.concat(written),
    flushes: () => flushes,
    writes: () => writes,
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
  };
}

const failed = (error: unknown) => new Error("write failed", { cause: error });

/** 20 MiB in 64 KiB chunks, each chunk filled with its index. */
function source(): { chunks: Buffer[]; whole: Buffer } {
  const chunks = Array.from({ length: 320 }, (_, i) => Buffer.alloc(64 * 1024, i % 251));
  return { chunks, whole: Buffer.concat(chunks) };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (reason: unknown) => reason,
  );
}

describe("drainToFile", () => {
  it("writes every byte in order, gathering chunks, and flushes along the way", async () => {
    const fake = fakeHandle({ write: () => new Promise((resolve) => setTimeout(resolve, 1)) });
    const { chunks, whole } = source();
    let counted = 0;
    await drainToFile(Readable.from(chunks), fake.handle, {
      failed,
      onBytes: (bytes) => {
        counted += bytes;
      },
    });
    expect(fake.written().equals(whole)).toBe(true);
    expect(counted).toBe(whole.length);
    // Chunks that arrive during a write go into the next one, and never two writes at once.
    expect(fake.writes()).toBeLessThan(chunks.length);
    expect(fake.maxInFlight()).toBe(1);
    // Every 8 MiB while the 20 MiB arrive; the caller's fsync takes the rest.
    expect(fake.flushes()).toBeGreaterThanOrEqual(1);
    expect(fake.flushes()).toBeLessThanOrEqual(2);
  });

  it("pauses a source that outruns the file and resumes it", async () => {
    let release: () => void = () => {};
    const fake = fakeHandle({ write: () => new Promise((resolve) => (release = resolve)) });
    const input = new PassThrough();
    const done = drainToFile(input, fake.handle, { failed });
    for (let i = 0; i < 64; i++) input.write(Buffer.alloc(64 * 1024, i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(input.isPaused()).toBe(true);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(input.isPaused()).toBe(false);
    input.end();
    const finish = setInterval(() => release(), 1);
    await done;
    clearInterval(finish);
    expect(fake.written().length).toBe(64 * 64 * 1024);
  });

  it("flushes nothing early for a small blob", async () => {
    const fake = fakeHandle({});
    await drainToFile(Readable.from([Buffer.alloc(3 * MiB, 1)]), fake.handle, { failed });
    expect(fake.flushes()).toBe(0);
  });

  it("fails when a flush along the way fails, even if later ones would succeed", async () => {
    const eio = Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
    let calls = 0;
    // Linux may clear a failed flush's error, so the next fdatasync (and the final fsync) would
    // report success over lost pages: only the first answer is an error here.
    const fake = fakeHandle({
      datasync: async () => {
        calls += 1;
        if (calls === 1) throw eio;
      },
    });
    const error = await rejection(
      drainToFile(Readable.from(source().chunks), fake.handle, { failed }),
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("write failed");
    expect((error as Error).cause).toBe(eio);
  });

  it("fails with the file's error and stops the source", async () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    const fake = fakeHandle({
      write: async () => {
        throw enospc;
      },
    });
    const input = Readable.from(source().chunks);
    const error = await rejection(drainToFile(input, fake.handle, { failed }));
    expect((error as Error).cause).toBe(enospc);
    expect(input.destroyed).toBe(true);
  });

  it("keeps the source's own error, and settles only after the write under way", async () => {
    let release: () => void = () => {};
    const fake = fakeHandle({ write: () => new Promise((resolve) => (release = resolve)) });
    const input = new PassThrough();
    const done = drainToFile(input, fake.handle, { failed });
    input.write(Buffer.alloc(1024, 1));
    await new Promise((resolve) => setImmediate(resolve));
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    input.destroy(reset);
    let settled = false;
    done.catch(() => {}).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The caller closes the handle once this settles: not while a write still uses it.
    expect(fake.inFlight()).toBe(1);
    expect(settled).toBe(false);
    release();
    expect(await rejection(done)).toBe(reset);
  });

  it("ends with the error of a progress callback that throws", async () => {
    const fake = fakeHandle({});
    const input = Readable.from(source().chunks);
    const broken = new Error("progress view failed");
    const error = await rejection(
      drainToFile(input, fake.handle, {
        failed,
        onBytes: () => {
          throw broken;
        },
      }),
    );
    expect(error).toBe(broken);
    expect(input.destroyed).toBe(true);
  });

  it("fails a source that closes before its end", async () => {
    const fake = fakeHandle({});
    const input = new PassThrough();
    const done = drainToFile(input, fake.handle, { failed });
    input.write(Buffer.alloc(10));
    input.destroy();
    const error = await rejection(done);
    expect((error as { code?: string }).code).toBe("ERR_STREAM_PREMATURE_CLOSE");
  });

  it("stops on abort with the signal's reason and destroys the source", async () => {
    const fake = fakeHandle({});
    const input = new PassThrough();
    const controller = new AbortController();
    const done = drainToFile(input, fake.handle, { failed, signal: controller.signal });
    input.write(Buffer.alloc(10));
    const reason = new Error("stopped by the user");
    controller.abort(reason);
    expect(await rejection(done)).toBe(reason);
    expect(input.destroyed).toBe(true);
  });

  it("does not start when the signal is already aborted", async () => {
    const fake = fakeHandle({});
    const controller = new AbortController();
    const reason = new Error("too late");
    controller.abort(reason);
    const input = Readable.from([Buffer.alloc(10)]);
    expect(
      await rejection(drainToFile(input, fake.handle, { failed, signal: controller.signal })),
    ).toBe(reason);
    expect(fake.writes()).toBe(0);
  });
});

describe("drainIntoFile", () => {
  /** A drainable source that hands over `parts` through one reused buffer. */
  function drainable(parts: Buffer[], after?: () => void): Drainable {
    return {
      async [DRAIN](sink) {
        const reused = Buffer.alloc(Math.max(...parts.map((part) => part.length), 1));
        for (const part of parts) {
          part.copy(reused);
          sink(reused.subarray(0, part.length));
          // What the sink kept of the view would now be overwritten.
          reused.fill(0xee);
        }
        after?.();
      },
    };
  }

  async function withFile<T>(
    mode: "w" | "r",
    run: (handle: FileHandle, flushes: () => number, path: string) => Promise<T>,
    datasync?: () => Promise<void>,
  ): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), "hoist-drain-"));
    const path = join(dir, "blob");
    await writeFile(path, "");
    const real = await open(path, mode);
    let flushes = 0;
    const handle = {
      fd: real.fd,
      datasync: () => {
        flushes += 1;
        return datasync ? datasync() : real.datasync();
      },
    } as unknown as FileHandle;
    try {
      return await run(handle, () => flushes, path);
    } finally {
      await real.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  it("writes every view in order as it comes, and flushes along the way", async () => {
    const parts = Array.from({ length: 80 }, (_, i) => Buffer.alloc(256 * 1024, i));
    let counted = 0;
    await withFile("w", async (handle, flushes, path) => {
      await drainIntoFile(drainable(parts), handle, {
        failed,
        onBytes: (bytes) => {
          counted += bytes;
        },
      });
      expect((await readFile(path)).equals(Buffer.concat(parts))).toBe(true);
      expect(flushes()).toBeGreaterThanOrEqual(1);
    });
    expect(counted).toBe(80 * 256 * 1024);
  });

  it("fails through `failed` when the file cannot be written", async () => {
    await withFile("r", async (handle) => {
      await expect(
        drainIntoFile(drainable([Buffer.from("abc")]), handle, { failed }),
      ).rejects.toMatchObject({ message: "write failed" });
    });
  });

  it("fails when a flush along the way failed, once nothing is flushing", async () => {
    const parts = Array.from({ length: 40 }, () => Buffer.alloc(256 * 1024, 1));
    await withFile(
      "w",
      async (handle) => {
        await expect(drainIntoFile(drainable(parts), handle, { failed })).rejects.toMatchObject({
          message: "write failed",
          cause: { code: "EIO" },
        });
      },
      () => Promise.reject(Object.assign(new Error("i/o"), { code: "EIO" })),
    );
  });

  it("fails with what the progress callback threw, and with an abort's reason", async () => {
    const boom = new Error("progress broke");
    await withFile("w", async (handle) => {
      await expect(
        drainIntoFile(drainable([Buffer.from("abc")]), handle, {
          failed,
          onBytes: () => {
            throw boom;
          },
        }),
      ).rejects.toBe(boom);
      const controller = new AbortController();
      const reason = new Error("stop");
      await expect(
        drainIntoFile(
          drainable([Buffer.from("a"), Buffer.from("b")], () => {}),
          handle,
          { failed, signal: controller.signal, onBytes: () => controller.abort(reason) },
        ),
      ).rejects.toBe(reason);
    });
  });
});
