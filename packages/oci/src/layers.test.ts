import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ociFailure } from "../test/oci-failure.js";
import { DigestMismatchError } from "./errors.js";
import { gzipBytes } from "./gzip.js";
import { Hash } from "./hash.js";
import type { Layer } from "./interfaces.js";
import { layerFromBytes } from "./layer-from-bytes.js";
import { layerFromFile } from "./layer-from-file.js";
import { layerFromStream } from "./layer-from-stream.js";
import { MediaType } from "./media-type.js";
import { tarWithFile } from "./tar-writer.js";

const TAR = tarWithFile("hello.txt", Buffer.from("hello, layer\n".repeat(500)));
const GZIPPED = gzipBytes(TAR, 6);

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "hoist-oci-layers-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function expectConsistent(layer: Layer, uncompressed: Buffer) {
  const compressed = await buffer(await layer.compressed());
  expect((await layer.digest()).equals(Hash.compute(compressed))).toBe(true);
  expect(await layer.size()).toBe(compressed.length);
  expect((await layer.diffID()).equals(Hash.compute(uncompressed))).toBe(true);
  expect((await buffer(await layer.uncompressed())).equals(uncompressed)).toBe(true);
  return compressed;
}

const failure = ociFailure;

describe("layerFromBytes", () => {
  it("keeps a plain tar plain by default", async () => {
    const layer = layerFromBytes(TAR);
    const compressed = await expectConsistent(layer, TAR);
    expect(compressed.equals(TAR)).toBe(true);
    expect((await layer.digest()).equals(await layer.diffID())).toBe(true);
    expect(await layer.mediaType()).toBe(MediaType.OCI_LAYER);
  });

  it("gzips a plain tar when asked, deterministically and platform-independently", async () => {
    const layer = layerFromBytes(TAR, { compression: "gzip" });
    const compressed = await expectConsistent(layer, TAR);
    expect(compressed.equals(GZIPPED)).toBe(true);
    expect(compressed[9]).toBe(0xff); // gzip header OS byte: "unknown"
    expect(compressed.readUInt32LE(4)).toBe(0); // mtime
    expect(await layer.mediaType()).toBe(MediaType.OCI_LAYER_GZIP);
    const again = layerFromBytes(TAR, { compression: "gzip" });
    expect((await again.digest()).equals(await layer.digest())).toBe(true);
  });

  it("detects gzip input and keeps it as the blob", async () => {
    const layer = layerFromBytes(GZIPPED);
    const compressed = await expectConsistent(layer, TAR);
    expect(compressed.equals(GZIPPED)).toBe(true);
    expect(await layer.mediaType()).toBe(MediaType.OCI_LAYER_GZIP);
    expect(await layerFromBytes(GZIPPED, { compression: "gzip" }).size()).toBe(GZIPPED.length);
  });

  it("decompresses gzip input when asked for an uncompressed blob", async () => {
    const layer = layerFromBytes(GZIPPED, { compression: "none" });
    const compressed = await expectConsistent(layer, TAR);
    expect(compressed.equals(TAR)).toBe(true);
    expect(await layer.mediaType()).toBe(MediaType.OCI_LAYER);
  });

  it("honours a media type and gzip level", async () => {
    const layer = layerFromBytes(TAR, {
      compression: "gzip",
      mediaType: MediaType.DOCKER_LAYER,
      gzipLevel: 9,
    });
    expect(await layer.mediaType()).toBe(MediaType.DOCKER_LAYER);
    expect((await buffer(await layer.compressed())).equals(gzipBytes(TAR, 9))).toBe(true);
  });

  it("copies its input", async () => {
    const data = Buffer.from(TAR);
    const layer = layerFromBytes(data);
    data.fill(0);
    expect((await layer.diffID()).equals(Hash.compute(TAR))).toBe(true);
  });

  it("handles an empty layer", async () => {
    const layer = layerFromBytes(new Uint8Array(0), { compression: "gzip" });
    await expectConsistent(layer, Buffer.alloc(0));
  });

  it("refuses zstd input with a typed error", async () => {
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    const error = await failure(layerFromBytes(zstd).digest());
    expect(error.code).toBe("HOIST_OCI_UNSUPPORTED_COMPRESSION");
  });

  it("reports corrupt gzip as HOIST_OCI_DECOMPRESS_FAILED", async () => {
    const corrupt = Buffer.from(GZIPPED);
    corrupt.fill(0x55, 20, 40);
    const error = await failure(layerFromBytes(corrupt).diffID());
    expect(error.code).toBe("HOIST_OCI_DECOMPRESS_FAILED");
    const truncated = GZIPPED.subarray(0, GZIPPED.length - 12);
    expect((await failure(layerFromBytes(truncated).diffID())).code).toBe(
      "HOIST_OCI_DECOMPRESS_FAILED",
    );
  });

  it.each([
    [{ compression: "brotli" }, /compression must be/],
    [{ mediaType: "not a media type" }, /invalid media type/],
    [{ gzipLevel: 11 }, /gzip level/],
    [{ gzipLevel: 1.5 }, /gzip level/],
  ])("refuses bad options %j", (options, message) => {
    expect(() => layerFromBytes(TAR, options as never)).toThrow(message);
    expect(() => layerFromBytes(TAR, options as never)).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
  });

  it("refuses input that is not bytes", () => {
    expect(() => layerFromBytes("tar" as never)).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
  });

  it("stops reading when aborted", async () => {
    const layer = layerFromBytes(TAR);
    await expect(layer.compressed({ signal: AbortSignal.abort() })).rejects.toThrow();
    const controller = new AbortController();
    const stream = await layer.compressed({ signal: controller.signal });
    controller.abort();
    await expect(buffer(stream)).rejects.toThrow(/abort/i);
  });
});

describe("layerFromFile", () => {
  it("reads a tar lazily and gzips it when asked", async () => {
    const path = join(directory, "layer.tar");
    await writeFile(path, TAR);
    const layer = layerFromFile(path, { compression: "gzip" });
    const compressed = await expectConsistent(layer, TAR);
    expect(compressed.equals(GZIPPED)).toBe(true);
  });

  it("detects a gzipped file", async () => {
    const path = join(directory, "layer.tar.gz");
    await writeFile(path, GZIPPED);
    const layer = layerFromFile(path);
    expect(await layer.mediaType()).toBe(MediaType.OCI_LAYER_GZIP);
    await expectConsistent(layer, TAR);
  });

  it("computes digests during the first read when nothing asked before", async () => {
    const path = join(directory, "first-read.tar");
    await writeFile(path, TAR);
    const layer = layerFromFile(path, { compression: "gzip" });
    const uncompressed = await buffer(await layer.uncompressed());
    expect(uncompressed.equals(TAR)).toBe(true);
    expect((await layer.digest()).equals(Hash.compute(GZIPPED))).toBe(true);
  });

  it("fails with a DigestMismatchError when the file changes after hashing", async () => {
    const path = join(directory, "changing.tar");
    await writeFile(path, TAR);
    const layer = layerFromFile(path);
    await layer.digest();
    const changed = Buffer.from(TAR);
    changed[600] = 0x41;
    await writeFile(path, changed);
    const error = await failure(buffer(await layer.compressed()));
    expect(DigestMismatchError.is(error)).toBe(true);
    await writeFile(path, Buffer.concat([TAR, Buffer.alloc(512)]));
    expect((await failure(buffer(await layer.compressed()))).code).toBe("HOIST_OCI_SIZE_MISMATCH");
  });

  it("reports a missing file as HOIST_OCI_READ_FAILED, quoting the path", async () => {
    const path = join(directory, "missing.tar");
    const error = await failure(layerFromFile(path).digest());
    expect(error.code).toBe("HOIST_OCI_READ_FAILED");
    expect(error.message).toContain(JSON.stringify(path));
    expect(error.message).toContain("ENOENT");
    expect((error.cause as NodeJS.ErrnoException).code).toBe("ENOENT");
    // A failure is not cached: the file may appear later.
    await writeFile(path, TAR);
    expect((await layerFromFile(path).diffID()).equals(Hash.compute(TAR))).toBe(true);
  });

  it("reports a directory as HOIST_OCI_READ_FAILED", async () => {
    const error = await failure(layerFromFile(directory).digest());
    expect(error.code).toBe("HOIST_OCI_READ_FAILED");
  });

  it("refuses an empty path", () => {
    expect(() => layerFromFile("")).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
  });
});

describe("layerFromStream", () => {
  const pieces = (data: Buffer) =>
    Readable.from([data.subarray(0, 1), data.subarray(1, 3000), data.subarray(3000)]);

  it("knows nothing until read, then everything", async () => {
    const layer = layerFromStream(pieces(TAR), { compression: "gzip" });
    expect(layer.computed).toBe(false);
    for (const ask of [() => layer.digest(), () => layer.diffID(), () => layer.size()]) {
      const error = await failure(ask());
      expect(error.code).toBe("HOIST_OCI_NOT_COMPUTED");
      expect(error.message).toMatch(/read compressed\(\) or uncompressed\(\) to the end first/);
    }
    expect(await layer.mediaType()).toBe(MediaType.OCI_LAYER_GZIP);
    const whenComputed = layer.whenComputed();
    const compressed = await buffer(await layer.compressed());
    expect(compressed.equals(GZIPPED)).toBe(true);
    expect(layer.computed).toBe(true);
    const digests = await whenComputed;
    expect(digests.digest.equals(Hash.compute(GZIPPED))).toBe(true);
    expect(digests.diffID.equals(Hash.compute(TAR))).toBe(true);
    expect(digests.size).toBe(GZIPPED.length);
    expect(digests.uncompressedSize).toBe(TAR.length);
    expect((await layer.digest()).equals(digests.digest)).toBe(true);
  });

  it("computes the compressed digest while the uncompressed form is read", async () => {
    const layer = layerFromStream(pieces(TAR), { compression: "gzip" });
    expect((await buffer(await layer.uncompressed())).equals(TAR)).toBe(true);
    expect((await layer.digest()).equals(Hash.compute(GZIPPED))).toBe(true);
  });

  it("detects a gzipped stream and computes the diffID on the side", async () => {
    const layer = layerFromStream(pieces(GZIPPED));
    expect(await layer.mediaType()).toBe(MediaType.OCI_LAYER_GZIP);
    expect((await buffer(await layer.compressed())).equals(GZIPPED)).toBe(true);
    expect((await layer.diffID()).equals(Hash.compute(TAR))).toBe(true);
  });

  it("decompresses a gzipped stream into an uncompressed blob when asked", async () => {
    const layer = layerFromStream(pieces(GZIPPED), { compression: "none" });
    expect((await buffer(await layer.compressed())).equals(TAR)).toBe(true);
    expect((await layer.digest()).equals(await layer.diffID())).toBe(true);
  });

  it("accepts an async iterable and tiny chunks", async () => {
    async function* bytes() {
      for (const byte of TAR.subarray(0, 1500)) yield new Uint8Array([byte]);
    }
    const layer = layerFromStream(bytes());
    expect((await buffer(await layer.compressed())).equals(TAR.subarray(0, 1500))).toBe(true);
    expect(await layer.size()).toBe(1500);
  });

  it("handles an empty stream", async () => {
    const layer = layerFromStream(Readable.from([]), { compression: "gzip" });
    await buffer(await layer.compressed());
    expect((await layer.diffID()).equals(Hash.compute(""))).toBe(true);
  });

  it("can be read only once", async () => {
    const layer = layerFromStream(pieces(TAR));
    await buffer(await layer.compressed());
    const error = await failure(layer.uncompressed());
    expect(error.code).toBe("HOIST_OCI_CONSUMED");
  });

  it("stays uncomputed for good when its one read fails", async () => {
    const source = new Readable({
      read() {
        this.destroy(new Error("connection reset"));
      },
    });
    const layer = layerFromStream(source, { compression: "gzip" });
    const whenComputed = layer.whenComputed();
    await expect(layer.compressed().then(buffer)).rejects.toThrow("connection reset");
    await expect(whenComputed).rejects.toThrow("connection reset");
    const error = await failure(layer.digest());
    expect(error.code).toBe("HOIST_OCI_NOT_COMPUTED");
    expect(error.message).toMatch(/failed/);
  });

  it("stays uncomputed when the reader stops early, and releases the source", async () => {
    const source = pieces(TAR);
    const layer = layerFromStream(source);
    const stream = await layer.compressed();
    stream.destroy();
    await expect(layer.whenComputed()).rejects.toThrow(/closed before/);
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
  });

  it("refuses zstd streams and things that are not streams", async () => {
    const layer = layerFromStream(Readable.from([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2])]));
    expect((await failure(layer.compressed())).code).toBe("HOIST_OCI_UNSUPPORTED_COMPRESSION");
    expect(() => layerFromStream(TAR as never)).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
    const strings = layerFromStream(
      (async function* () {
        yield 42 as unknown as Uint8Array;
      })(),
    );
    expect(
      (
        await failure(
          layerFromStream(Readable.from([{}], { objectMode: true }))
            .compressed()
            .then(buffer),
        )
      ).code,
    ).toBe("HOIST_OCI_INVALID_ARGUMENT");
    expect((await failure(strings.mediaType())).code).toBe("HOIST_OCI_INVALID_ARGUMENT");
  });

  it("gives output identical to the bytes builder", async () => {
    const fromStream = layerFromStream(pieces(TAR), { compression: "gzip" });
    const streamed = await buffer(await fromStream.compressed());
    expect(
      streamed.equals(
        await buffer(await layerFromBytes(TAR, { compression: "gzip" }).compressed()),
      ),
    ).toBe(true);
    expect(gunzipSync(streamed).equals(TAR)).toBe(true);
  });
});
