import { createWriteStream } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import {
  appendLayers,
  type BlobSource,
  createImage,
  DigestMismatchError,
  emptyImage,
  Hash,
  type Image,
  layerFromBytes,
  layerFromFile,
  MediaType,
  setAnnotations,
} from "@hoist/oci";
import { describe, expect, it } from "vitest";
import {
  exportImage,
  flatten,
  imageFromTarball,
  type LayerTarEntry,
  type Progress,
  readLayerTar,
  writeTarball,
} from "../src/index.js";
import {
  gnuTar,
  imageOfLayers,
  listTree,
  type RawEntry,
  rawTar,
  run,
  tarballFailure,
  useTempDirectory,
} from "./helpers.js";

const directory = useTempDirectory("export");
let counter = 0;
const fresh = (name: string) => join(directory(), `${name}-${++counter}`);

interface Listed {
  name: string;
  type: string;
  content?: string;
  linkname?: string;
}

async function exported(image: Image, options: Parameters<typeof exportImage>[2] = {}) {
  const out = new PassThrough();
  const [result, bytes] = await Promise.all([exportImage(image, out, options), buffer(out)]);
  const entries: Listed[] = [];
  for await (const entry of readLayerTar(Readable.from([bytes]))) entries.push(await listed(entry));
  return { result, bytes, entries };
}

async function listed(entry: LayerTarEntry): Promise<Listed> {
  const item: Listed = { name: entry.name, type: entry.type };
  if (entry.type === "file") item.content = (await buffer(entry.body)).toString();
  if (entry.linkname) item.linkname = entry.linkname;
  return item;
}

const dir = (name: string): RawEntry => ({ name, type: "directory" });

describe("flattening layers like crane export", () => {
  it("applies whiteouts, opaque directories and top-layer-wins", async () => {
    const image = await imageOfLayers(
      [
        dir("etc/"),
        { name: "etc/keep", content: "base" },
        { name: "etc/gone", content: "base" },
        dir("var/"),
        dir("var/cache/"),
        { name: "var/cache/old", content: "stale" },
        dir("tree/"),
        { name: "tree/a", content: "a" },
        dir("tree/sub/"),
        { name: "tree/sub/b", content: "b" },
        { name: "replaced", content: "v1" },
        { name: "was-file", content: "file" },
        dir("was-dir/"),
        { name: "was-dir/child", content: "child" },
      ],
      [
        { name: "etc/.wh.gone" },
        { name: "./var/cache/.wh..wh..opq" },
        { name: "var/cache/new", content: "fresh" },
        { name: ".wh.tree" },
        { name: "./replaced", content: "v2" },
        dir("was-file/"),
        { name: "was-file/inside", content: "now a dir" },
        { name: "was-dir", content: "now a file" },
        { name: ".wh.never-existed" },
        // Whiteouts that would name a directory itself or its parent are ignored.
        { name: "etc/.wh..." },
        { name: "etc/.wh.." },
      ],
    );
    const { entries, result } = await exported(image);
    expect(entries).toEqual([
      { name: "var/cache/new", type: "file", content: "fresh" },
      { name: "replaced", type: "file", content: "v2" },
      { name: "was-file", type: "directory" },
      { name: "was-file/inside", type: "file", content: "now a dir" },
      { name: "was-dir", type: "file", content: "now a file" },
      { name: "etc", type: "directory" },
      { name: "etc/keep", type: "file", content: "base" },
      { name: "var", type: "directory" },
      { name: "var/cache", type: "directory" },
    ]);
    expect(result.entries).toBe(entries.length);
  });

  it("lets a layer's opaque marker hide only lower layers, and a root opaque hide everything below", async () => {
    const image = await imageOfLayers(
      [{ name: "lowest", content: "x" }, dir("d/"), { name: "d/low", content: "x" }],
      [{ name: "d/.wh..wh..opq" }, { name: "d/same-layer", content: "kept" }],
      [{ name: ".wh..wh..opq" }, { name: "top", content: "t" }],
    );
    const { entries } = await exported(image);
    expect(entries.map((entry) => entry.name)).toEqual(["top"]);
    const middle = await imageOfLayers(
      [dir("d/"), { name: "d/low", content: "x" }],
      [{ name: "d/same-layer", content: "kept" }, { name: "d/.wh..wh..opq" }],
    );
    expect((await exported(middle)).entries.map((entry) => entry.name)).toEqual([
      "d/same-layer",
      "d",
    ]);
  });

  it("keeps links, modes and absolute symlinks, and GNU tar extracts the result", async () => {
    const image = await imageOfLayers([
      dir("bin/"),
      { name: "bin/busybox", content: "#!bb", mode: 0o755 },
      { name: "bin/sh", type: "link", linkname: "bin/busybox" },
      { name: "bin/ls", type: "symlink", linkname: "busybox" },
      { name: "localtime", type: "symlink", linkname: "/usr/share/zoneinfo/UTC" },
    ]);
    const path = `${fresh("links")}.tar`;
    await exportImage(image, path);
    const outside = fresh("outside");
    const root = join(outside, "root");
    await mkdir(root, { recursive: true });
    await run(gnuTar, ["-xf", path, "-C", root]);
    expect(await listTree(outside)).toEqual([
      "root",
      "root/bin",
      "root/bin/busybox",
      "root/bin/ls",
      "root/bin/sh",
      "root/localtime",
    ]);
    expect((await readFile(join(root, "bin/sh"))).toString()).toBe("#!bb");
    const { stdout } = await run(gnuTar, ["-tvf", path]);
    expect(stdout).toContain("-rwxr-xr-x");
    expect(stdout).toContain("localtime -> /usr/share/zoneinfo/UTC");
  });

  it("writes a single non-layer blob raw, as crane export does", async () => {
    const wasm = Buffer.from("\0asm\u0001\0\0\0 a module");
    const layer = layerFromBytes(wasm, { mediaType: "application/vnd.wasm.content.layer.v1+wasm" });
    const image = appendLayers(emptyImage(), [layer]);
    const out = new PassThrough();
    const [result, bytes] = await Promise.all([exportImage(image, out), buffer(out)]);
    expect(bytes).toEqual(wasm);
    expect(result).toEqual({ entries: 0, bytes: wasm.length });
  });

  it("exports a tarball's image and reports progress", async () => {
    const image = await imageOfLayers([{ name: "a", content: "1" }], [{ name: "b", content: "2" }]);
    const path = `${fresh("image")}.tar`;
    await writeTarball(path, { image, refs: ["e:1"] });
    const updates: Progress[] = [];
    const { entries, bytes } = await exported(await imageFromTarball(path), {
      onProgress: (progress) => updates.push(progress),
    });
    expect(entries.map((entry) => entry.name)).toEqual(["b", "a"]);
    expect(updates.at(-1)).toEqual({ complete: bytes.length, total: undefined });
  });
});

describe("verification and limits", () => {
  it("reads every layer to its end, so a layer that does not match its digest fails", async () => {
    const tarBytes = await rawTar([{ name: "file", content: "genuine content" }]);
    const tampered = Buffer.from(tarBytes);
    tampered[512] = (tampered[512] as number) ^ 0x20; // "genuine" becomes "Genuine"
    const config = Buffer.from(
      JSON.stringify({ rootfs: { type: "layers", diff_ids: [String(Hash.compute(tarBytes))] } }),
    );
    const layerDigest = Hash.compute(tarBytes);
    const rawManifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OCI_MANIFEST,
        config: {
          mediaType: MediaType.OCI_CONFIG,
          size: config.length,
          digest: Hash.compute(config),
        },
        layers: [{ mediaType: MediaType.OCI_LAYER, size: tarBytes.length, digest: layerDigest }],
      }),
    );
    // A registry (or disk) that serves the tampered bytes under the genuine digest.
    const source: BlobSource = {
      blob: async (descriptor) =>
        Readable.from([descriptor.digest.equals(layerDigest) ? tampered : config]),
    };
    const image = createImage({ rawManifest, source });
    const target = fresh("tampered");
    await mkdir(target);
    const error = await exportImage(image, join(target, "fs.tar")).catch((caught) => caught);
    expect(DigestMismatchError.is(error), String(error)).toBe(true);
    expect(await listTree(target)).toEqual([]);
  });

  it("stops a layer that decompresses past the byte cap", async () => {
    const image = await imageOfLayers([{ name: "big", content: Buffer.alloc(2 * 1024 * 1024) }]);
    const target = fresh("bytes");
    await mkdir(target);
    const error = await tarballFailure(
      exportImage(image, join(target, "fs.tar"), { maxUncompressedBytes: 1024 * 1024 }),
    );
    expect(error.code).toBe("HOIST_TARBALL_DECOMPRESSION_LIMIT");
    expect(error.message).toContain("maxUncompressedBytes");
    expect(await listTree(target)).toEqual([]);
  });

  it("stops a gzip bomb by its compression ratio", async () => {
    // 72 MiB of zeros in one file (past the 64 MiB the ratio is checked from) gzips to about
    // 70 KiB: a ratio near 1000. It is streamed to disk, never held.
    const bombPath = `${fresh("bomb")}.tar.gz`;
    const size = 72 * 1024 * 1024;
    async function* zeros() {
      const header = Buffer.from(await rawTar([{ name: "zeros", content: "" }]));
      // Turn the empty file's header into one for `size` bytes: size field, then checksum.
      const block = header.subarray(0, 512);
      block.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "latin1");
      block.fill(0x20, 148, 156);
      const sum = block.reduce((total, byte) => total + byte, 0);
      block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
      yield block;
      const chunk = Buffer.alloc(1024 * 1024);
      for (let written = 0; written < size; written += chunk.length) yield chunk;
      yield Buffer.alloc(1024);
    }
    await pipeline(Readable.from(zeros()), createGzip({ level: 6 }), createWriteStream(bombPath));
    const image = appendLayers(emptyImage({ mediaType: MediaType.DOCKER_MANIFEST }), [
      layerFromFile(bombPath, { mediaType: MediaType.DOCKER_LAYER }),
    ]);
    const target = fresh("ratio");
    await mkdir(target);
    const error = await tarballFailure(
      exportImage(image, join(target, "fs.tar"), { maxCompressionRatio: 100 }),
    );
    expect(error.code).toBe("HOIST_TARBALL_DECOMPRESSION_LIMIT");
    expect(error.message).toContain("decompression bomb");
    expect(await listTree(target)).toEqual([]);
    // The same layer passes when the ratio is allowed.
    const result = await exportImage(image, join(target, "fs.tar"), { maxCompressionRatio: 2000 });
    expect(result.entries).toBe(1);
  });

  it("rejects with the abort reason and leaves nothing", async () => {
    const image = await imageOfLayers(
      [{ name: "a", content: "x".repeat(100_000) }],
      [{ name: "b", content: "y" }],
    );
    const target = fresh("abort");
    await mkdir(target);
    const controller = new AbortController();
    const promise = exportImage(image, join(target, "fs.tar"), {
      signal: controller.signal,
      onProgress: () => controller.abort(new Error("enough")),
    });
    await expect(promise).rejects.toThrow("enough");
    expect(await listTree(target)).toEqual([]);
  });
});

describe("flatten", () => {
  it("squashes an image into one layer with a fresh config and history, like crane flatten", async () => {
    const base = await imageOfLayers(
      [
        { name: "a", content: "1" },
        { name: "b", content: "2" },
      ],
      [{ name: ".wh.a" }, { name: "c", content: "3" }],
    );
    const image = setAnnotations(base, { "org.example": "kept" }) as Image;
    const created = new Date("2024-01-02T03:04:05Z");
    const flat = await flatten(image, { created });
    // Written to a tarball (the streamed layer is staged), then read back.
    const path = `${fresh("flat")}.tar`;
    await writeTarball(path, { image: flat, refs: ["flat:1"] });
    const back = await imageFromTarball(path);
    // The tarball keeps config and layers; manifest annotations have no place in it.
    expect(String(await back.configName())).toBe(String(await flat.configName()));
    expect(String(await (await back.layers())[0]?.digest())).toBe(
      String(await (await flat.layers())[0]?.digest()),
    );
    expect(await flat.mediaType()).toBe(MediaType.DOCKER_MANIFEST);
    expect((await flat.manifest()).annotations).toEqual({ "org.example": "kept" });
    const config = await back.configFile();
    expect(config.created).toBe(created.toISOString());
    expect(config.rootfs?.diff_ids).toHaveLength(1);
    expect(config.history).toEqual([
      {
        created: created.toISOString(),
        created_by: `hoist flatten ${await image.digest()}`,
        comment: JSON.stringify((await image.configFile()).history),
      },
    ]);
    const { entries } = await exported(back);
    expect(entries.map((entry) => [entry.name, entry.content])).toEqual([
      ["c", "3"],
      ["b", "2"],
    ]);
  });
});
