import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  createGunzipStream,
  createGzipStream,
  DEFAULT_GZIP_LEVEL,
  detectCompression,
  gzipBytes,
} from "./gzip.js";

const DATA = Buffer.from("compress me, ".repeat(10_000));

describe("deterministic gzip", () => {
  it("writes a fixed header: no mtime, no name, OS unknown", () => {
    const output = gzipBytes(DATA, 6);
    expect([...output.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    expect(gunzipSync(output).equals(DATA)).toBe(true);
  });

  it("streams the same bytes as the one-shot form, whatever the chunking", async () => {
    const pieces = [DATA.subarray(0, 1), DATA.subarray(1, 5000), DATA.subarray(5000)];
    const streamed = await buffer(Readable.from(pieces).pipe(createGzipStream({ level: 6 })));
    expect(streamed.equals(gzipBytes(DATA, 6))).toBe(true);
  });

  it("uses the default level when none is given", async () => {
    const streamed = await buffer(Readable.from([DATA]).pipe(createGzipStream()));
    expect(streamed.equals(gzipBytes(DATA, DEFAULT_GZIP_LEVEL))).toBe(true);
    expect(streamed.equals(gzipBytes(DATA, 1))).toBe(false);
  });

  it("refuses levels outside 0–9", () => {
    expect(() => gzipBytes(DATA, 10)).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
    expect(() => createGzipStream({ level: -1 })).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
  });
});

describe("gunzip", () => {
  it("decompresses concatenated members, as gzip -d does", async () => {
    const joined = Buffer.concat([
      gzipBytes(Buffer.from("one "), 6),
      gzipBytes(Buffer.from("two"), 6),
    ]);
    const output = await buffer(Readable.from([joined]).pipe(createGunzipStream()));
    expect(output.toString()).toBe("one two");
  });

  it("turns zlib failures into HOIST_OCI_DECOMPRESS_FAILED", async () => {
    const stream = Readable.from([
      Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3]),
    ]).pipe(createGunzipStream({ operation: "read layer" }));
    await expect(buffer(stream)).rejects.toMatchObject({
      code: "HOIST_OCI_DECOMPRESS_FAILED",
      operation: "read layer",
    });
  });

  it("names the subject and hands the error to translateError", async () => {
    const translated = new Error("translated");
    let seen: unknown;
    const stream = Readable.from([Buffer.from([0x1f, 0x8b, 8, 0, 1, 2])]).pipe(
      createGunzipStream({
        operation: "read blob",
        subject: 'layer "a.tar"',
        translateError: (error) => {
          seen = error;
          return translated;
        },
      }),
    );
    await expect(buffer(stream)).rejects.toBe(translated);
    expect(seen).toMatchObject({
      code: "HOIST_OCI_DECOMPRESS_FAILED",
      operation: "read blob",
      message: expect.stringMatching(/^the gzip data of layer "a\.tar" is corrupt or truncated \(/),
      cause: expect.any(Error),
    });
  });
});

describe("detectCompression", () => {
  it.each([
    [[0x1f, 0x8b, 8], "gzip"],
    [[0x28, 0xb5, 0x2f, 0xfd], "zstd"],
    [[0x28, 0xb5, 0x2f], "none"],
    [[0x1f], "none"],
    [[], "none"],
    [[0x75, 0x73, 0x74, 0x61], "none"],
  ])("%j is %s", (bytes, expected) => {
    expect(detectCompression(new Uint8Array(bytes))).toBe(expected);
  });
});
