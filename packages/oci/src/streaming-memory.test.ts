import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layerFromFile } from "./layer-from-file.js";
import { layerFromStream } from "./layer-from-stream.js";

// These tests push 256 MiB through the layer builders and check that memory does not grow with
// the layer: for streams by counting the bytes that were produced but not yet consumed (the
// pipeline's buffers), for files by watching the process's Buffer memory. No timing is asserted.

const MiB = 1024 * 1024;
const LAYER_SIZE = 256 * MiB;
const CHUNK = 64 * 1024;

// Deterministic, cheap to make and moderately compressible, so gzip has real work to do.
function chunkAt(index: number): Buffer {
  const chunk = Buffer.alloc(CHUNK);
  for (let offset = 0; offset < CHUNK; offset += 64) {
    chunk.writeUInt32LE((index * 2654435761 + offset * 40503) >>> 0, offset);
  }
  return chunk;
}

function expectedDigest(): string {
  const hash = createHash("sha256");
  for (let index = 0; index < LAYER_SIZE / CHUNK; index++) hash.update(chunkAt(index));
  return `sha256:${hash.digest("hex")}`;
}

function countingSource() {
  const state = {
    produced: 0,
    onProduce: () => {},
    stream: undefined as unknown as Readable,
  };
  let index = 0;
  state.stream = new Readable({
    read() {
      if (index === LAYER_SIZE / CHUNK) {
        this.push(null);
        return;
      }
      const chunk = chunkAt(index++);
      state.produced += chunk.length;
      state.onProduce();
      this.push(chunk);
    },
  });
  return state;
}

// A slow consumer: each write completes on a later turn of the event loop.
function slowReader(onChunk: (chunk: Buffer) => void): Writable {
  return new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      onChunk(chunk);
      setImmediate(callback);
    },
  });
}

function watchMemory() {
  const before = process.memoryUsage();
  let buffers = before.arrayBuffers;
  let rss = before.rss;
  const sample = () => {
    const now = process.memoryUsage();
    buffers = Math.max(buffers, now.arrayBuffers);
    rss = Math.max(rss, now.rss);
  };
  const timer = setInterval(sample, 5);
  return {
    stop: () => {
      sample();
      clearInterval(timer);
    },
    growth: () => ({ buffers: buffers - before.arrayBuffers, rss: rss - before.rss }),
  };
}

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "hoist-oci-memory-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

// Each test moves 256 MiB through hashing and gzip; on a loaded 2-core CI machine that takes
// well over the default timeout, and no assertion here is about time.
describe("256 MiB layers stream with flat memory", { timeout: 300_000 }, () => {
  it("from a one-shot stream read uncompressed: the bytes buffered stay bounded", async () => {
    // Every byte the source produced and the reader has not received yet sits in a buffer of
    // the pipeline (hashers, the gzip side branch that computes the digest, stream queues).
    const source = countingSource();
    let received = 0;
    let mostBuffered = 0;
    source.onProduce = () => {
      mostBuffered = Math.max(mostBuffered, source.produced - received);
    };
    const layer = layerFromStream(source.stream, { compression: "gzip", gzipLevel: 1 });
    const diffID = createHash("sha256");
    await pipeline(
      await layer.uncompressed(),
      slowReader((chunk) => {
        diffID.update(chunk);
        received += chunk.length;
      }),
    );
    expect(received).toBe(LAYER_SIZE);
    expect(mostBuffered).toBeLessThan(4 * MiB);
    const digests = await layer.whenComputed();
    expect(digests.diffID.toString()).toBe(`sha256:${diffID.digest("hex")}`);
    expect(digests.diffID.toString()).toBe(expectedDigest());
    expect(digests.uncompressedSize).toBe(LAYER_SIZE);
    expect(digests.size).toBeGreaterThan(0);
  });

  it("from a one-shot stream read compressed: Buffer memory stays flat", async () => {
    const source = countingSource();
    const layer = layerFromStream(source.stream, { compression: "gzip", gzipLevel: 1 });
    const digest = createHash("sha256");
    let size = 0;
    const memory = watchMemory();
    try {
      await pipeline(
        await layer.compressed(),
        slowReader((chunk) => {
          digest.update(chunk);
          size += chunk.length;
        }),
      );
    } finally {
      memory.stop();
    }
    expect(source.produced).toBe(LAYER_SIZE);
    expect(memory.growth().buffers).toBeLessThan(96 * MiB);
    const digests = await layer.whenComputed();
    expect(digests.digest.toString()).toBe(`sha256:${digest.digest("hex")}`);
    expect(digests.size).toBe(size);
    expect(digests.diffID.toString()).toBe(expectedDigest());
  });

  it("from a file: hashing reads it in a stream, not into memory", async () => {
    const path = join(directory, "big.tar");
    const file = createWriteStream(path);
    for (let index = 0; index < LAYER_SIZE / CHUNK; index++) {
      if (!file.write(chunkAt(index))) await once(file, "drain");
    }
    file.end();
    await once(file, "close");

    const layer = layerFromFile(path);
    const memory = watchMemory();
    let digest: string;
    try {
      digest = (await layer.digest()).toString();
    } finally {
      memory.stop();
    }
    expect(digest).toBe(expectedDigest());
    expect(await layer.size()).toBe(LAYER_SIZE);
    // Loose bounds: holding the layer would add 256 MiB to both.
    expect(memory.growth().buffers).toBeLessThan(96 * MiB);
    expect(memory.growth().rss).toBeLessThan(128 * MiB);
  });
});
