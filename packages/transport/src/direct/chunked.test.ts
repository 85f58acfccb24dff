import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChunkedDecoder } from "./chunked.js";

function encode(chunks: readonly Uint8Array[], trailers = ""): Buffer {
  const parts: Buffer[] = [];
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    parts.push(
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      Buffer.from(chunk),
      Buffer.from("\r\n"),
    );
  }
  parts.push(Buffer.from(`0\r\n${trailers}\r\n`));
  return Buffer.concat(parts);
}

/** Feeds `input` in pieces cut at `cuts`, returning the body and the bytes it used. */
function decode(input: Buffer, cuts: readonly number[] = []): { body: Buffer; used: number } {
  const decoder = new ChunkedDecoder();
  const body: Buffer[] = [];
  let used = 0;
  const points = [...new Set(cuts.map((cut) => cut % (input.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, input.length]) {
    const piece = input.subarray(from, to);
    used += decoder.take(piece, (view) => body.push(Buffer.from(view)));
    from = to;
    if (decoder.done) break;
  }
  expect(decoder.done).toBe(true);
  return { body: Buffer.concat(body), used };
}

describe("ChunkedDecoder", () => {
  it("gives back the body however the bytes are cut, and stops at its end", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.uint8Array({ maxLength: 20 }),
        (chunks, cuts, after) => {
          const encoded = encode(chunks, "X-Trailer: 1\r\n");
          const { body, used } = decode(Buffer.concat([encoded, after]), cuts);
          expect(body.equals(Buffer.concat(chunks))).toBe(true);
          expect(used).toBe(encoded.length);
        },
      ),
    );
  });

  it("accepts extensions and upper-case sizes", () => {
    expect(decode(Buffer.from("A;name=value\r\n0123456789\r\n0\r\n\r\n")).body.toString()).toBe(
      "0123456789",
    );
  });

  it.each([
    ["a size that is not hexadecimal", "x\r\n"],
    ["a size line without CR", "3\nabc\r\n"],
    ["data longer than its size", "3\r\nabcd\r\n"],
    ["a size too large to be exact", "fffffffffffffff\r\n"],
    ["a size line without end", `${"1".repeat(5000)}`],
  ])("refuses %s", (_, text) => {
    expect(() => new ChunkedDecoder().take(Buffer.from(text), () => {})).toThrow(
      expect.objectContaining({ code: "HPE_INVALID_CHUNK_SIZE" }),
    );
  });

  it("refuses trailers without end", () => {
    const decoder = new ChunkedDecoder();
    decoder.take(Buffer.from("0\r\n"), () => {});
    expect(() => decoder.take(Buffer.from(`${"T: v\r\n".repeat(4000)}`), () => {})).toThrow(
      expect.objectContaining({ code: "HPE_INVALID_CHUNK_SIZE" }),
    );
  });
});
