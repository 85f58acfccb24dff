import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { FileSink } from "./blob-files.js";

const MiB = 1024 * 1024;

/** A file handle that keeps what is written and answers fdatasync as told. */
function fakeHandle(datasync: () => Promise<void>) {
  const written: Buffer[] = [];
  let flushes = 0;
  const handle = {
    async write(buffer: Buffer, offset = 0, length = buffer.length - offset) {
      written.push(Buffer.from(buffer.subarray(offset, offset + length)));
      return { bytesWritten: length, buffer };
    },
    async writev(buffers: Buffer[]) {
      let bytesWritten = 0;
      for (const buffer of buffers) {
        written.push(Buffer.from(buffer));
        bytesWritten += buffer.length;
      }
      return { bytesWritten, buffers };
    },
    datasync() {
      flushes += 1;
      return datasync();
    },
  };
  return {
    handle: handle as unknown as FileHandle,
    written: () => Buffer.concat(written),
    flushes: () => flushes,
  };
}

const failed = (error: unknown) => new Error("write failed", { cause: error });

/** 20 MiB in 64 KiB chunks, each chunk filled with its index. */
function source(): { chunks: Buffer[]; whole: Buffer } {
  const chunks = Array.from({ length: 320 }, (_, i) => Buffer.alloc(64 * 1024, i % 251));
  return { chunks, whole: Buffer.concat(chunks) };
}

describe("FileSink", () => {
  it("hands written bytes to the disk along the way and keeps them in order", async () => {
    const fake = fakeHandle(async () => {});
    const sink = new FileSink(fake.handle, failed);
    const { chunks, whole } = source();
    await pipeline(Readable.from(chunks), sink);
    await sink.flushed();
    expect(fake.written().equals(whole)).toBe(true);
    // Every 8 MiB while the 20 MiB arrive; the caller's fsync takes the rest.
    expect(fake.flushes()).toBeGreaterThanOrEqual(1);
    expect(fake.flushes()).toBeLessThanOrEqual(2);
  });

  it("flushes nothing early for a small blob", async () => {
    const fake = fakeHandle(async () => {});
    const sink = new FileSink(fake.handle, failed);
    await pipeline(Readable.from([Buffer.alloc(3 * MiB, 1)]), sink);
    await sink.flushed();
    expect(fake.flushes()).toBe(0);
  });

  it("fails the write when a flush along the way fails, even if later ones would succeed", async () => {
    const eio = Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
    let calls = 0;
    // Linux may clear a failed flush's error, so the next fdatasync (and the final fsync) would
    // report success over lost pages: only the first answer is an error here.
    const fake = fakeHandle(async () => {
      calls += 1;
      if (calls === 1) throw eio;
    });
    const sink = new FileSink(fake.handle, failed);
    const { chunks } = source();
    const error = await pipeline(Readable.from(chunks), sink)
      .then(() => sink.flushed())
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("write failed");
    expect((error as Error).cause).toBe(eio);
  });
});
