import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { gzipSync } from "node:zlib";
import { Hash, MediaType } from "@hoist/oci";
import { describe, expect, it } from "vitest";
import {
  createLayerTar,
  imageFromFiles,
  type LayerTarEntry,
  layerFromFiles,
  layerFromTar,
  readLayerTar,
} from "../src/index.js";
import { gnuTar, rawTar, run, tarballFailure, useTempDirectory } from "./helpers.js";

const directory = useTempDirectory("layer-tar");

async function entries(source: Readable | AsyncIterable<Uint8Array>) {
  const out: Array<Omit<LayerTarEntry, "body" | "mtime"> & { content: string }> = [];
  for await (const { body, mtime: _mtime, ...entry } of readLayerTar(source)) {
    out.push({ ...entry, content: (await buffer(body)).toString() });
  }
  return out;
}

describe("createLayerTar", () => {
  it("is reproducible: sorted names, epoch times, fixed owners and modes", async () => {
    const files = {
      "usr/bin/tool": { content: "#!/bin/sh", mode: 0o755 },
      "etc/": { type: "directory" as const },
      "etc/motd": "hello",
      "etc/link": { type: "symlink" as const, linkname: "motd" },
      "etc/hard": { type: "link" as const, linkname: "etc/motd" },
    };
    const first = await createLayerTar(files);
    const reordered = await createLayerTar(new Map(Object.entries(files).reverse()));
    expect(Buffer.from(first)).toEqual(Buffer.from(reordered));
    const path = join(directory(), "files.tar");
    await writeFile(path, first);
    const { stdout } = await run(gnuTar, ["-tvf", path]);
    expect(stdout.trim().split("\n")).toEqual([
      "drwxr-xr-x 0/0               0 1970-01-01 00:00 etc/",
      "hrw-r--r-- 0/0               0 1970-01-01 00:00 etc/hard link to etc/motd",
      "lrwxrwxrwx 0/0               0 1970-01-01 00:00 etc/link -> motd",
      "-rw-r--r-- 0/0               5 1970-01-01 00:00 etc/motd",
      "-rwxr-xr-x 0/0               9 1970-01-01 00:00 usr/bin/tool",
    ]);
  });

  it.each([
    [{ "../x": "a" }, "HOIST_TARBALL_UNSAFE_PATH"],
    [{ "/etc/x": "a" }, "HOIST_TARBALL_UNSAFE_PATH"],
    [{ x: { type: "link" as const, linkname: "../../etc/passwd" } }, "HOIST_TARBALL_UNSAFE_PATH"],
    [{ "a/b": "1", "./a/b": "2" }, "HOIST_TARBALL_INVALID_ARGUMENT"],
    [{ x: { type: "symlink" as const } }, "HOIST_TARBALL_INVALID_ARGUMENT"],
    [{ "d/": { type: "directory" as const, content: "no" } }, "HOIST_TARBALL_INVALID_ARGUMENT"],
    [{ ".": "root" }, "HOIST_TARBALL_INVALID_ARGUMENT"],
  ])("refuses %j", async (files, code) => {
    expect((await tarballFailure(createLayerTar(files))).code).toBe(code);
  });
});

describe("layers and images of files", () => {
  it("builds gzipped Docker layers by default and OCI ones on request", async () => {
    const docker = await layerFromFiles({ a: "1" });
    expect(await docker.mediaType()).toBe(MediaType.DOCKER_LAYER);
    expect(String(await docker.diffID())).toBe(
      String(Hash.compute(await createLayerTar({ a: "1" }))),
    );
    const oci = await layerFromFiles({ a: "1" }, { format: "oci" });
    expect(await oci.mediaType()).toBe(MediaType.OCI_LAYER_GZIP);
    const image = await imageFromFiles({ a: "1" });
    expect(await image.mediaType()).toBe(MediaType.DOCKER_MANIFEST);
    const again = await imageFromFiles({ a: "1" });
    expect(String(await again.digest())).toBe(String(await image.digest()));
  });

  it("makes layers from tar files and streams, gzipping plain tars", async () => {
    const tarBytes = await createLayerTar({ f: "content" });
    const path = join(directory(), "plain.tar");
    await writeFile(path, tarBytes);
    const fromFile = layerFromTar(path);
    expect(await fromFile.mediaType()).toBe(MediaType.DOCKER_LAYER);
    expect((await buffer(await fromFile.compressed())).subarray(0, 2)).toEqual(
      Buffer.from([0x1f, 0x8b]),
    );
    expect(String(await fromFile.diffID())).toBe(String(Hash.compute(tarBytes)));
    const fromStream = layerFromTar(Readable.from([gzipSync(tarBytes)]));
    expect(await buffer(await fromStream.uncompressed())).toEqual(Buffer.from(tarBytes));
  });
});

describe("readLayerTar", () => {
  it("yields cleaned names, types, links and pax records", async () => {
    const bytes = await rawTar([
      { name: "./dir/", type: "directory" },
      { name: "./dir/file", content: "data" },
      { name: "dir/hard", type: "link", linkname: "./dir/file" },
      { name: "dir/sym", type: "symlink", linkname: "../elsewhere" },
      { name: `long/${"n".repeat(200)}`, content: "long" },
    ]);
    const listed = await entries(Readable.from([bytes]));
    expect(
      listed.map(({ name, type, linkname, content }) => ({ name, type, linkname, content })),
    ).toEqual([
      { name: "dir", type: "directory", linkname: "", content: "" },
      { name: "dir/file", type: "file", linkname: "", content: "data" },
      { name: "dir/hard", type: "link", linkname: "dir/file", content: "" },
      { name: "dir/sym", type: "symlink", linkname: "../elsewhere", content: "" },
      { name: `long/${"n".repeat(200)}`, type: "file", linkname: "", content: "long" },
    ]);
    expect(listed[1]?.rawName).toBe("./dir/file");
    expect(listed[4]?.pax).toEqual({});
  });

  it("skips bodies not read, and releases the source when the reader stops early", async () => {
    const bytes = await rawTar([
      { name: "a", content: "x".repeat(100_000) },
      { name: "b", content: "y" },
      { name: "c", content: "z" },
    ]);
    const names: string[] = [];
    for await (const entry of readLayerTar(Readable.from([bytes]))) names.push(entry.name);
    expect(names).toEqual(["a", "b", "c"]);
    const source = Readable.from([bytes.subarray(0, 60_000), bytes.subarray(60_000)]);
    for await (const entry of readLayerTar(source)) {
      expect(entry.name).toBe("a");
      break;
    }
    expect(source.destroyed).toBe(true);
  });

  it("names truncated and corrupt archives and unsafe names", async () => {
    const bytes = await rawTar([{ name: "a", content: "x".repeat(3000) }]);
    expect((await tarballFailure(entries(Readable.from([bytes.subarray(0, 1500)])))).code).toBe(
      "HOIST_TARBALL_TRUNCATED",
    );
    const corrupt = Buffer.from(bytes);
    corrupt[0] = "b".charCodeAt(0);
    expect((await tarballFailure(entries(Readable.from([corrupt])))).code).toBe(
      "HOIST_TARBALL_INVALID_ARCHIVE",
    );
    const empty = await rawTar([{ name: "a", type: "link", linkname: "./" }]);
    expect((await tarballFailure(entries(Readable.from([empty])))).code).toBe(
      "HOIST_TARBALL_INVALID_ARCHIVE",
    );
    const unsafe = await rawTar([{ name: "../evil", content: "x" }]);
    const error = await tarballFailure(entries(Readable.from([unsafe])));
    expect(error.code).toBe("HOIST_TARBALL_UNSAFE_PATH");
    expect(error.message).toContain('"../evil"');
  });

  it("reads past a directory whose header claims a size, as Go's archive/tar does, without hanging", async () => {
    // Found by hoist's reliability suite: tar-stream never ended such a directory's stream.
    const bytes = await rawTar([
      { name: "d/", type: "directory" },
      { name: "d/f", content: "hello" },
    ]);
    bytes.write(`${(600).toString(8).padStart(11, "0")}\0`, 124, "latin1");
    bytes.fill(0x20, 148, 156);
    const sum = bytes.subarray(0, 512).reduce((total, byte) => total + byte, 0);
    bytes.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    const read = await entries(Readable.from([bytes]));
    expect(read.map((e) => [e.name, e.type, e.size, e.content])).toEqual([
      ["d", "directory", 0, ""],
      ["d/f", "file", 5, "hello"],
    ]);
  });

  it("refuses an entry whose size field cannot be decoded, instead of waiting for its data", async () => {
    // Found by hoist's reliability suite: tar-stream decodes this base-256 size as null.
    const bytes = await rawTar([{ name: "a", content: "" }]);
    bytes.write("\x86000000000", 124, 12, "latin1");
    bytes.fill(0x20, 148, 156);
    const sum = bytes.subarray(0, 512).reduce((total, byte) => total + byte, 0);
    bytes.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    const error = await tarballFailure(entries(Readable.from([bytes])));
    expect(error.code).toBe("HOIST_TARBALL_INVALID_ARCHIVE");
    expect(error.message).toContain("size field");
  });

  it("refuses an undecodable size after a pax header without an uncaught stream error", async () => {
    // Found by hoist's reliability suite: the entry's stream failed with no listener attached.
    const bytes = await rawTar([
      { name: "a", content: "x".repeat(700) },
      { name: "b-with-a-long-name-from-pax".repeat(5), content: "y" },
    ]);
    // The last header is the second entry's own, after its pax extended header.
    let header = -1;
    for (let at = 0; at + 512 <= bytes.length; at += 512) {
      if (bytes.toString("latin1", at + 257, at + 262) === "ustar") header = at;
    }
    expect(bytes[header - 1024 + 156]).toBe("x".charCodeAt(0));
    bytes.write("\x86000000000", header + 124, 12, "latin1");
    bytes.fill(0x20, header + 148, header + 156);
    const sum = bytes.subarray(header, header + 512).reduce((total, byte) => total + byte, 0);
    bytes.write(`${sum.toString(8).padStart(6, "0")}\0 `, header + 148, "latin1");
    const error = await tarballFailure(entries(Readable.from([bytes])));
    expect(error.code).toBe("HOIST_TARBALL_INVALID_ARCHIVE");
    // Give a stray stream error the chance to surface (vitest fails the file on one).
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it("stops when aborted, before or while reading", async () => {
    const bytes = await rawTar([
      { name: "a", content: "x" },
      { name: "b", content: "y" },
    ]);
    const before = new AbortController();
    before.abort(new Error("stop"));
    const iterate = async (signal: AbortSignal, onEntry = () => {}) => {
      for await (const _entry of readLayerTar(Readable.from([bytes]), { signal })) onEntry();
    };
    await expect(iterate(before.signal)).rejects.toThrow("stop");
    const during = new AbortController();
    await expect(iterate(during.signal, () => during.abort(new Error("midway")))).rejects.toThrow(
      "midway",
    );
  });
});
