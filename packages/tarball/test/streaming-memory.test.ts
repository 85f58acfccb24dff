import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { appendLayers, emptyImage, Hash, type Layer, MediaType } from "@hoist/oci";
import { describe, expect, it } from "vitest";
import { exportImage, imageFromTarball, writeTarball } from "../src/index.js";
import { useTempDirectory } from "./helpers.js";

// A 256 MiB layer goes through writeTarball, and the tarball written is read back and exported.
// Memory must not grow with the layer: for the write, the bytes the layer produced but the output
// has not yet taken (the pipeline's buffers) stay small; for the read and export, the process's
// Buffer memory does. Bounds are loose on purpose, and no timing is asserted.

const MiB = 1024 * 1024;
const FILE_SIZE = 256 * MiB;
const CHUNK = 64 * 1024;

const directory = useTempDirectory("memory");

// A valid layer tar holding one 256 MiB file, produced chunk by chunk.
function headerBlock(): Buffer {
  const block = Buffer.alloc(512);
  block.write("big.bin", 0, "latin1");
  block.write("0000644\0", 100, "latin1");
  block.write("0000000\0", 108, "latin1");
  block.write("0000000\0", 116, "latin1");
  block.write(`${FILE_SIZE.toString(8).padStart(11, "0")}\0`, 124, "latin1");
  block.write("00000000000\0", 136, "latin1");
  block.write("0", 156, "latin1");
  block.write("ustar\u000000", 257, "latin1");
  block.fill(0x20, 148, 156);
  const sum = block.reduce((total, byte) => total + byte, 0);
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return block;
}

function chunkAt(index: number): Buffer {
  const chunk = Buffer.alloc(CHUNK);
  for (let offset = 0; offset < CHUNK; offset += 64) {
    chunk.writeUInt32LE((index * 2654435761 + offset * 40503) >>> 0, offset);
  }
  return chunk;
}

function* layerChunks(): Generator<Buffer> {
  yield headerBlock();
  for (let index = 0; index < FILE_SIZE / CHUNK; index++) yield chunkAt(index);
  yield Buffer.alloc(1024);
}

const LAYER_SIZE = 512 + FILE_SIZE + 1024;

// An uncompressed layer whose bytes are made on demand and counted as they are produced.
function countedLayer() {
  const hash = createHash("sha256");
  for (const chunk of layerChunks()) hash.update(chunk);
  const digest = Hash.parse(`sha256:${hash.digest("hex")}`);
  const state = { produced: 0, onProduce: () => {} };
  const stream = () =>
    Readable.from(
      (function* () {
        for (const chunk of layerChunks()) {
          state.produced += chunk.length;
          state.onProduce();
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
  const layer: Layer = {
    digest: async () => digest,
    diffID: async () => digest,
    size: async () => LAYER_SIZE,
    mediaType: async () => MediaType.DOCKER_LAYER_UNCOMPRESSED,
    compressed: async () => stream(),
    uncompressed: async () => stream(),
  };
  return { layer, state };
}

function watchBuffers() {
  const before = process.memoryUsage();
  let buffers = before.arrayBuffers;
  let rss = before.rss;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    buffers = Math.max(buffers, now.arrayBuffers);
    rss = Math.max(rss, now.rss);
  }, 5);
  return {
    stop: () => {
      clearInterval(timer);
      return { buffers: buffers - before.arrayBuffers, rss: rss - before.rss };
    },
  };
}

describe("memory stays flat with a 256 MiB layer", () => {
  it("writes, reads back and exports it with bounded buffers", async () => {
    const { layer, state } = countedLayer();
    const image = appendLayers(emptyImage({ mediaType: MediaType.DOCKER_MANIFEST }), [layer]);
    const path = join(directory(), "big.tar");

    // Write through a slow consumer so that any buffering would show.
    let written = 0;
    let inFlight = 0;
    state.onProduce = () => {
      inFlight = Math.max(inFlight, state.produced - written);
    };
    const file = createWriteStream(path);
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        file.write(chunk, () => setImmediate(callback));
      },
      final(callback) {
        file.end(callback);
      },
    });
    const writing = watchBuffers();
    await writeTarball(slow, { image, refs: ["big:1"] });
    const writeGrowth = writing.stop();
    expect(state.produced).toBe(LAYER_SIZE);
    expect(inFlight).toBeLessThan(8 * MiB);
    expect(writeGrowth.buffers).toBeLessThan(64 * MiB);

    // Read back (the layer is hashed and gzipped when its digest is first needed) and export.
    const reading = watchBuffers();
    const back = await imageFromTarball(path);
    const [backLayer] = await back.layers();
    expect(String(await backLayer?.diffID())).toBe(String(await layer.diffID()));
    expect((await back.manifest()).layers[0]?.mediaType).toBe(MediaType.DOCKER_LAYER);
    let exported = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        exported += chunk.length;
        setImmediate(callback);
      },
    });
    const result = await exportImage(back, sink);
    const readGrowth = reading.stop();
    expect(result.entries).toBe(1);
    expect(exported).toBeGreaterThan(FILE_SIZE);
    expect(readGrowth.buffers).toBeLessThan(64 * MiB);
    // Loose: the process must not have grown by anything near the layer's size.
    expect(Math.max(writeGrowth.rss, readGrowth.rss)).toBeLessThan(160 * MiB);
  });
});
