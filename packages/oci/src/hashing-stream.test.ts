import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { ociFailure } from "../test/oci-failure.js";
import { DigestMismatchError, SizeMismatchError } from "./errors.js";
import { Hash } from "./hash.js";
import {
  DRAIN,
  type Drainable,
  FILL,
  type Fillable,
  HashingStream,
  hashStream,
  isDrainable,
  isFillable,
  VerifyingStream,
} from "./hashing-stream.js";

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

/** A stream that can also be drained, as a direct connection's body is. */
class DrainableSource extends Readable implements Drainable {
  drains = 0;
  constructor(readonly parts: Buffer[]) {
    super();
  }
  override _read(): void {
    for (const part of this.parts) this.push(part);
    this.push(null);
  }
  async [DRAIN](sink: (view: Uint8Array) => void): Promise<void> {
    this.drains++;
    // One buffer reused for every view, as the socket's is.
    const reused = Buffer.alloc(256);
    for (const part of this.parts) {
      part.copy(reused);
      sink(reused.subarray(0, part.length));
      reused.fill(0);
    }
  }
}

describe("VerifyingStream with a source", () => {
  const digest = Hash.compute(DATA);

  it("reads its source only when read, and passes the expected bytes", async () => {
    const source = new DrainableSource(chunks(DATA));
    const verifier = new VerifyingStream({ digest, size: DATA.length, source });
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.readableFlowing).toBe(null);
    expect((await buffer(verifier)).equals(DATA)).toBe(true);
    expect(source.drains).toBe(0);
  });

  it("drains a drainable source, checking every view, each before the next is read", async () => {
    const source = new DrainableSource(chunks(DATA));
    const verifier = new VerifyingStream({ digest, size: DATA.length, source });
    expect(isDrainable(verifier)).toBe(true);
    const copies: Buffer[] = [];
    await verifier[DRAIN]((view) => copies.push(Buffer.from(view)));
    expect(Buffer.concat(copies).equals(DATA)).toBe(true);
    expect(verifier.size).toBe(DATA.length);
    expect(source.drains).toBe(1);
  });

  it("rejects a drain with the mismatch a read would fail with", async () => {
    const tampered = Buffer.from(DATA);
    tampered[7] = 0;
    const wrong = new VerifyingStream({ digest, source: new DrainableSource(chunks(tampered)) });
    await expect(wrong[DRAIN](() => {})).rejects.toBeInstanceOf(DigestMismatchError);
    const short = new VerifyingStream({
      digest,
      size: DATA.length,
      source: new DrainableSource(chunks(DATA.subarray(1))),
    });
    await expect(short[DRAIN](() => {})).rejects.toMatchObject({ kind: "truncated" });
  });

  it("stops a drain at the first byte past the size, never passing it on", async () => {
    const verifier = new VerifyingStream({
      digest,
      size: 100,
      source: new DrainableSource(chunks(DATA)),
    });
    let passed = 0;
    await expect(
      verifier[DRAIN]((view) => {
        passed += view.length;
      }),
    ).rejects.toBeInstanceOf(SizeMismatchError);
    expect(passed).toBeLessThanOrEqual(100);
  });

  it("passes a sink's promise on to its source, which waits for it", async () => {
    const returned: unknown[] = [];
    const source = new (class extends DrainableSource {
      override async [DRAIN](sink: (view: Uint8Array) => void | Promise<void>): Promise<void> {
        for (const part of this.parts) {
          const waiting = sink(part);
          returned.push(waiting);
          await waiting;
        }
      }
    })(chunks(DATA));
    const verifier = new VerifyingStream({ digest, size: DATA.length, source });
    let inSink = 0;
    await verifier[DRAIN](async () => {
      inSink++;
      await new Promise((resolve) => setImmediate(resolve));
    });
    expect(inSink).toBe(chunks(DATA).length);
    expect(returned.every((value) => value instanceof Promise)).toBe(true);
  });

  it("drains a source that cannot be drained by reading it", async () => {
    const verifier = new VerifyingStream({ digest, source: Readable.from(chunks(DATA)) });
    const copies: Buffer[] = [];
    await verifier[DRAIN]((view) => copies.push(Buffer.from(view)));
    expect(Buffer.concat(copies).equals(DATA)).toBe(true);
  });

  it("fails when its source fails before anything is read", async () => {
    const source = new Readable({ read() {} });
    const verifier = new VerifyingStream({ digest, source });
    const broken = new Error("reset");
    source.destroy(broken);
    await expect(buffer(verifier)).rejects.toBe(broken);
  });

  it("destroys a source it never read when it is destroyed", async () => {
    const source = new DrainableSource(chunks(DATA));
    new VerifyingStream({ digest, source }).destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
  });
});

/** A stream that can also be filled, as a layout's blob file is. */
class FillableSource extends Readable implements Fillable {
  #offset = 0;
  constructor(readonly data: Buffer) {
    super();
  }
  override _read(): void {
    this.push(this.data);
    this.push(null);
  }
  [FILL](into: Uint8Array): number {
    const bytes = this.data.copy(into, 0, this.#offset);
    this.#offset += bytes;
    return bytes;
  }
}

/** Fills `target` into one reused buffer of `size` bytes; what each fill returned, copied. */
async function fillAll(target: Fillable, size = 97): Promise<Buffer[]> {
  const reused = Buffer.alloc(size);
  const parts: Buffer[] = [];
  for (let bytes = await target[FILL](reused); bytes > 0; bytes = await target[FILL](reused)) {
    parts.push(Buffer.from(reused.subarray(0, bytes)));
  }
  return parts;
}

describe("VerifyingStream with a fillable source", () => {
  const digest = Hash.compute(DATA);

  it("is fillable only when its source is", () => {
    expect(isFillable(new VerifyingStream({ digest, source: new FillableSource(DATA) }))).toBe(
      true,
    );
    expect(isFillable(new VerifyingStream({ digest, source: Readable.from([DATA]) }))).toBe(false);
    expect(isFillable(new VerifyingStream({ digest }))).toBe(false);
  });

  it("fills the caller's buffer with the expected bytes, then closes", async () => {
    const source = new FillableSource(DATA);
    const verifier = new VerifyingStream({ digest, size: DATA.length, source });
    const parts = await fillAll(verifier as VerifyingStream & Fillable);
    expect(Buffer.concat(parts).equals(DATA)).toBe(true);
    expect(verifier.size).toBe(DATA.length);
    expect(verifier.destroyed).toBe(true);
    expect(source.destroyed).toBe(true);
  });

  it("fails the fill that would hand over the last bytes of a wrong blob", async () => {
    const tampered = Buffer.from(DATA);
    tampered[7] = 0;
    const verifier = new VerifyingStream({
      digest,
      size: DATA.length,
      source: new FillableSource(tampered),
    }) as VerifyingStream & Fillable;
    const into = Buffer.alloc(1000);
    let handed = 0;
    const error = await (async () => {
      for (;;) handed += await verifier[FILL](into);
    })().catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(handed).toBeLessThan(DATA.length);
    expect(verifier.destroyed).toBe(true);
  });

  it("fails on a source longer or shorter than the size, and without a size at the end", async () => {
    const longer = new VerifyingStream({
      digest,
      size: DATA.length - 1,
      source: new FillableSource(DATA),
    }) as VerifyingStream & Fillable;
    await expect(fillAll(longer)).rejects.toMatchObject({ kind: "excess" });
    const shorter = new VerifyingStream({
      digest,
      size: DATA.length,
      source: new FillableSource(DATA.subarray(1)),
    }) as VerifyingStream & Fillable;
    await expect(fillAll(shorter)).rejects.toMatchObject({ kind: "truncated" });
    const tampered = Buffer.from(DATA);
    tampered[0] = 0;
    const unsized = new VerifyingStream({
      digest,
      source: new FillableSource(tampered),
    }) as VerifyingStream & Fillable;
    await expect(fillAll(unsized)).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it("refuses to be filled once read as a stream", async () => {
    const verifier = new VerifyingStream({
      digest,
      source: new FillableSource(DATA),
    }) as VerifyingStream & Fillable;
    expect((await buffer(verifier)).equals(DATA)).toBe(true);
    await expect(verifier[FILL](Buffer.alloc(10))).rejects.toMatchObject({
      code: "HOIST_OCI_INVALID_ARGUMENT",
    });
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
