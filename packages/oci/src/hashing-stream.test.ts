import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { ociFailure } from "../test/oci-failure.js";
import { DigestMismatchError, SizeMismatchError } from "./errors.js";
import { Hash } from "./hash.js";
import { HashingStream, hashStream, VerifyingStream } from "./hashing-stream.js";

const DATA = Buffer.from("the quick brown fox jumps over the lazy dog\n".repeat(100));
const chunks = (data: Buffer, size = 97) => {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += size)
    parts.push(data.subarray(offset, offset + size));
  return parts;
};

const failure = ociFailure;

describe("HashingStream", () => {
  it("passes bytes through and knows their digest and size at the end", async () => {
    const hashing = new HashingStream();
    expect(hashing.computed).toBe(false);
    expect(() => hashing.hash).toThrow(expect.objectContaining({ code: "HOIST_OCI_NOT_COMPUTED" }));
    const output = await buffer(Readable.from(chunks(DATA)).pipe(hashing));
    expect(output.equals(DATA)).toBe(true);
    expect(hashing.computed).toBe(true);
    expect(hashing.hash.equals(Hash.compute(DATA))).toBe(true);
    expect(hashing.size).toBe(DATA.length);
  });

  it("hashes with sha512", async () => {
    const hashing = new HashingStream({ algorithm: "sha512" });
    await buffer(Readable.from([DATA]).pipe(hashing));
    expect(hashing.hash.equals(Hash.compute(DATA, { algorithm: "sha512" }))).toBe(true);
  });
});

describe("VerifyingStream", () => {
  const digest = Hash.compute(DATA);

  it("passes the expected bytes", async () => {
    const output = await buffer(
      Readable.from(chunks(DATA)).pipe(new VerifyingStream({ digest, size: DATA.length })),
    );
    expect(output.equals(DATA)).toBe(true);
  });

  it("accepts the digest as a string and works without a size", async () => {
    const verifier = new VerifyingStream({ digest: digest.toString() });
    await pipeline(Readable.from(chunks(DATA)), verifier, sink());
    expect(verifier.size).toBe(DATA.length);
  });

  it("fails with DigestMismatchError on other bytes of the same size", async () => {
    const tampered = Buffer.from(DATA);
    tampered[100] = 0x21;
    const error = await failure(
      pipeline(
        Readable.from(chunks(tampered)),
        new VerifyingStream({ digest, size: DATA.length, operation: "fetch blob" }),
        sink(),
      ),
    );
    expect(DigestMismatchError.is(error)).toBe(true);
    const mismatch = error as DigestMismatchError;
    expect(mismatch.code).toBe("HOIST_OCI_DIGEST_MISMATCH");
    expect(mismatch.expected.equals(digest)).toBe(true);
    expect(mismatch.actual.equals(Hash.compute(tampered))).toBe(true);
    expect(mismatch.size).toBe(DATA.length);
    expect(mismatch.operation).toBe("fetch blob");
    expect(mismatch.message).toContain(digest.toString());
  });

  it("fails on excess bytes as soon as they arrive and never passes them on", async () => {
    const received: Buffer[] = [];
    const longer = Buffer.concat([DATA, Buffer.from("extra")]);
    const error = await failure(
      pipeline(
        Readable.from(chunks(longer, 1000)),
        new VerifyingStream({ digest, size: DATA.length }),
        async (source) => {
          for await (const chunk of source) received.push(chunk as Buffer);
        },
      ),
    );
    expect(SizeMismatchError.is(error)).toBe(true);
    expect((error as SizeMismatchError).kind).toBe("excess");
    expect((error as SizeMismatchError).expected).toBe(DATA.length);
    expect(Buffer.concat(received).length).toBeLessThanOrEqual(DATA.length);
  });

  it("fails on a truncated stream at its end", async () => {
    const error = await failure(
      pipeline(
        Readable.from(chunks(DATA.subarray(0, 1000))),
        new VerifyingStream({ digest, size: DATA.length }),
        sink(),
      ),
    );
    expect(error.code).toBe("HOIST_OCI_SIZE_MISMATCH");
    expect((error as SizeMismatchError).kind).toBe("truncated");
    expect((error as SizeMismatchError).actual).toBe(1000);
  });

  it("fails on an empty stream where bytes were expected", async () => {
    const error = await failure(
      pipeline(Readable.from([]), new VerifyingStream({ digest, size: 10 }), sink()),
    );
    expect(error.code).toBe("HOIST_OCI_SIZE_MISMATCH");
  });

  it("verifies sha512 digests with sha512", async () => {
    const sha512 = Hash.compute(DATA, { algorithm: "sha512" });
    const output = await buffer(
      Readable.from([DATA]).pipe(new VerifyingStream({ digest: sha512, size: DATA.length })),
    );
    expect(output.length).toBe(DATA.length);
  });

  it("refuses a malformed expectation up front", () => {
    expect(() => new VerifyingStream({ digest: "sha256:../../x" })).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_DIGEST" }),
    );
    expect(() => new VerifyingStream({ digest, size: -1 })).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
    expect(() => new VerifyingStream({ digest, size: 1.5 })).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
  });
});

describe("hashStream", () => {
  it("hashes a Readable", async () => {
    const result = await hashStream(Readable.from(chunks(DATA)));
    expect(result.hash.equals(Hash.compute(DATA))).toBe(true);
    expect(result.size).toBe(DATA.length);
  });

  it("hashes an async iterable of bytes", async () => {
    async function* bytes() {
      yield new Uint8Array([1, 2]);
      yield new Uint8Array([3]);
    }
    const result = await hashStream(bytes(), { algorithm: "sha512" });
    expect(
      result.hash.equals(Hash.compute(new Uint8Array([1, 2, 3]), { algorithm: "sha512" })),
    ).toBe(true);
    expect(result.size).toBe(3);
  });

  it("stops and destroys the source when aborted", async () => {
    const controller = new AbortController();
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled++;
        if (pulled === 3) controller.abort(new Error("enough"));
        this.push(Buffer.alloc(1024));
      },
    });
    await expect(hashStream(endless, { signal: controller.signal })).rejects.toThrow("enough");
    expect(endless.destroyed).toBe(true);
  });

  it("rejects at once for an aborted signal", async () => {
    await expect(
      hashStream(Readable.from([DATA]), { signal: AbortSignal.abort() }),
    ).rejects.toThrow();
  });
});

function sink() {
  return async (source: AsyncIterable<unknown>) => {
    for await (const _ of source);
  };
}
