import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FILL } from "@hoist/oci";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FileReadStream } from "./file-read-stream.js";

const CHUNK = 64 * 1024;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hoist-file-read-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(stream: FileReadStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function closed(stream: FileReadStream): Promise<void> {
  return new Promise((resolve) => (stream.closed ? resolve() : stream.once("close", resolve)));
}

function content(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 16)) & 0xff;
  return bytes;
}

describe("FileReadStream", () => {
  it("reads every byte of files around the chunk size, in either mode, and closes the file", async () => {
    const sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5];
    for (const size of sizes) {
      const path = join(dir, `f-${size}`);
      const bytes = content(size);
      await writeFile(path, bytes);
      for (const slowReadMs of [undefined, -1]) {
        const handle = await open(path, "r");
        const stream = new FileReadStream(handle, { slowReadMs });
        expect((await readAll(stream)).equals(bytes)).toBe(true);
        await closed(stream);
        expect(handle.fd).toBe(-1);
      }
    }
  });

  it("reads on the thread pool after a slow read, and only then", async () => {
    const path = join(dir, "slow");
    const bytes = content(4 * CHUNK);
    await writeFile(path, bytes);
    for (const [slowReadMs, poolReads] of [
      [-1, 4],
      [60_000, 0],
    ] as const) {
      const handle = await open(path, "r");
      const read = vi.spyOn(handle, "read");
      // The first read is synchronous either way; a slow one sends the rest (three chunks and
      // the empty read at the end) to the thread pool.
      expect((await readAll(new FileReadStream(handle, { slowReadMs }))).equals(bytes)).toBe(true);
      expect(read).toHaveBeenCalledTimes(poolReads);
    }
  });

  it("reads a file's first syncBytes synchronously and the rest on the thread pool", async () => {
    const path = join(dir, "long");
    const bytes = content(6 * CHUNK);
    await writeFile(path, bytes);
    for (const [syncBytes, poolReads] of [
      // Two chunks synchronously, then four and the empty read at the end on the pool.
      [2 * CHUNK, 5],
      // A budget that ends inside a chunk: that chunk is still read synchronously.
      [2 * CHUNK + 1, 4],
      [6 * CHUNK, 1],
      [undefined, 0],
    ] as const) {
      const handle = await open(path, "r");
      const read = vi.spyOn(handle, "read");
      const stream = new FileReadStream(handle, { slowReadMs: 60_000, syncBytes });
      expect((await readAll(stream)).equals(bytes)).toBe(true);
      expect(read).toHaveBeenCalledTimes(poolReads);
    }
  });

  it("matches the file for any size, mode and synchronous budget (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5 * CHUNK }),
        fc.boolean(),
        fc.integer({ min: 0, max: 6 * CHUNK }),
        async (size, slow, syncBytes) => {
          const path = join(dir, "prop");
          const bytes = content(size);
          await writeFile(path, bytes);
          const stream = new FileReadStream(await open(path, "r"), {
            slowReadMs: slow ? -1 : undefined,
            syncBytes,
          });
          expect((await readAll(stream)).equals(bytes)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("fails with the read's error in either mode and still closes the handle", async () => {
    for (const slowReadMs of [undefined, -1]) {
      // A directory opens for reading but every read fails with EISDIR.
      const handle = await open(dir, "r");
      const stream = new FileReadStream(handle, { slowReadMs });
      await expect(readAll(stream)).rejects.toMatchObject({ code: "EISDIR" });
      await closed(stream);
      expect(handle.fd).toBe(-1);
    }
  });

  it("closes the handle when destroyed part way", async () => {
    const path = join(dir, "part");
    await writeFile(path, content(8 * CHUNK));
    for (const slowReadMs of [undefined, -1]) {
      const handle = await open(path, "r");
      const stream = new FileReadStream(handle, { slowReadMs });
      const first = await new Promise<Buffer>((resolve) => stream.once("data", resolve));
      expect(first.length).toBe(CHUNK);
      stream.destroy();
      await closed(stream);
      expect(handle.fd).toBe(-1);
    }
  });

  it("fills the caller's buffer in either mode, reusing it for every read, and closes the file", async () => {
    const path = join(dir, "fill");
    const bytes = content(3 * CHUNK + 5);
    await writeFile(path, bytes);
    for (const [slowReadMs, poolReads] of [
      [undefined, 0],
      // The first fill is synchronous either way; after a slow one the rest go to the pool.
      [-1, 2],
    ] as const) {
      const handle = await open(path, "r");
      const read = vi.spyOn(handle, "read");
      const stream = new FileReadStream(handle, { slowReadMs });
      const into = Buffer.alloc(2 * CHUNK);
      const parts: Buffer[] = [];
      for (let n = await stream[FILL](into); n > 0; n = await stream[FILL](into)) {
        parts.push(Buffer.from(into.subarray(0, n)));
      }
      expect(Buffer.concat(parts).equals(bytes)).toBe(true);
      expect(read).toHaveBeenCalledTimes(poolReads);
      await closed(stream);
      expect(handle.fd).toBe(-1);
    }
  });

  it("fails a fill with the read's error and closes the handle", async () => {
    const handle = await open(dir, "r");
    const stream = new FileReadStream(handle);
    expect(() => stream[FILL](Buffer.alloc(10))).toThrow(
      expect.objectContaining({ code: "EISDIR" }),
    );
    await closed(stream);
    expect(handle.fd).toBe(-1);
  });

  it("is either filled or read as a stream, never both", async () => {
    const path = join(dir, "either");
    await writeFile(path, content(4 * CHUNK));
    const filled = new FileReadStream(await open(path, "r"));
    expect(filled[FILL](Buffer.alloc(10))).toBe(10);
    await expect(readAll(filled)).rejects.toThrow(/being filled/);
    const streamed = new FileReadStream(await open(path, "r"));
    await new Promise<Buffer>((resolve) => streamed.once("data", resolve));
    expect(() => streamed[FILL](Buffer.alloc(10))).toThrow(/as a stream/);
    streamed.destroy();
  });
});
