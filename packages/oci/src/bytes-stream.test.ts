import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { bytesStream } from "./bytes-stream.js";
import { Hash } from "./hash.js";
import { DRAIN, isDrainable, VerifyingStream } from "./hashing-stream.js";

const bytes = new TextEncoder().encode("a config held in memory");

describe("bytesStream", () => {
  it("reads as a stream, whole", async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of bytesStream(bytes)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(Buffer.from(bytes))).toBe(true);
  });

  it("drains in one view and closes", async () => {
    const stream = bytesStream(bytes);
    expect(isDrainable(stream)).toBe(true);
    const views: Uint8Array[] = [];
    await stream[DRAIN]((view) => {
      views.push(Uint8Array.from(view));
    });
    expect(views).toEqual([bytes]);
    expect(stream.destroyed).toBe(true);
  });

  it("fails the drain, and the stream, with what the sink threw; and waits for a sink's promise", async () => {
    const boom = new Error("sink broke");
    const failing = bytesStream(bytes);
    await expect(
      failing[DRAIN](() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(failing.destroyed).toBe(true);
    let settled = false;
    await bytesStream(bytes)[DRAIN](async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      settled = true;
    });
    expect(settled).toBe(true);
  });

  it("hands over an empty array without a view", async () => {
    const views: Uint8Array[] = [];
    await bytesStream(new Uint8Array(0))[DRAIN]((view) => views.push(view));
    expect(views).toEqual([]);
    expect(Buffer.concat(await Readable.from(bytesStream(new Uint8Array(0))).toArray())).toEqual(
      Buffer.alloc(0),
    );
  });

  it("drains through a verifier that reads it as its source", async () => {
    const verifier = new VerifyingStream({
      digest: Hash.compute(bytes),
      size: bytes.length,
      source: bytesStream(bytes),
    });
    const views: Buffer[] = [];
    await verifier[DRAIN]((view) => views.push(Buffer.from(view)));
    expect(Buffer.concat(views).equals(Buffer.from(bytes))).toBe(true);
    const wrong = new VerifyingStream({
      digest: Hash.compute("something else"),
      size: bytes.length,
      source: bytesStream(bytes),
    });
    await expect(wrong[DRAIN](() => {})).rejects.toMatchObject({
      code: "HOIST_OCI_DIGEST_MISMATCH",
    });
  });
});
