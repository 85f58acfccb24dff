import { Readable } from "node:stream";
import { Hash } from "@hoist/oci";
import type { TransportResponse } from "@hoist/transport";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunksOf, receivedBytes, withDigest } from "./upload-session.js";

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of source) out.push(chunk);
  return out;
}

describe("chunksOf", () => {
  it("cuts any stream into pieces of exactly the chunk size, the last one shorter", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 257 }),
        async (pieces, size) => {
          const chunks = await collect(
            chunksOf(Readable.from(pieces.map((p) => Buffer.from(p))), size),
          );
          const input = Buffer.concat(pieces.map((p) => Buffer.from(p)));
          expect(Buffer.concat(chunks).equals(input)).toBe(true);
          for (const chunk of chunks.slice(0, -1)) expect(chunk.length).toBe(size);
          const last = chunks.at(-1);
          if (last) expect(last.length).toBeGreaterThan(0);
          expect(chunks.length).toBe(Math.ceil(input.length / size));
        },
      ),
    );
  });
});

describe("upload session headers", () => {
  const response = (headers: Record<string, string>) =>
    ({ headers: new Headers(headers), url: "http://r/v2/x/blobs/uploads/1" }) as TransportResponse;

  it("reads the registry's Range as bytes received", () => {
    expect(receivedBytes(response({ range: "0-99" }))).toBe(100);
    expect(receivedBytes(response({ range: "bytes=0-4095" }))).toBe(4096);
    // distribution says 0-0 for an empty session
    expect(receivedBytes(response({ range: "0-0" }))).toBe(0);
    for (const bad of ["", "5-10", "0-", "0-x", "bytes 0-1"]) {
      expect(receivedBytes(response({ range: bad }))).toBeUndefined();
    }
    expect(receivedBytes(response({}))).toBeUndefined();
  });

  it("adds the digest and keeps the registry's own query", () => {
    const digest = Hash.compute("x");
    const url = withDigest(new URL("http://r/v2/x/blobs/uploads/1?_state=a%3D%3D&b=c"), digest);
    expect(url.search).toBe(`?_state=a%3D%3D&b=c&digest=${encodeURIComponent(digest.toString())}`);
    expect(withDigest(new URL("http://r/u"), digest).searchParams.get("digest")).toBe(
      digest.toString(),
    );
  });
});
