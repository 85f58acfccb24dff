import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { DRAIN, isDrainable } from "@hoist/oci";
import type { TransportResponse } from "@hoist/transport";
import { describe, expect, it } from "vitest";
import { resumableBody } from "./blob-stream.js";

const BLOB = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));

function response(
  status: number,
  body: Readable,
  headers: Record<string, string> = {},
): TransportResponse {
  return { status, headers: new Headers(headers), body } as unknown as TransportResponse;
}

/** A body that sends `bytes` and then breaks like a reset connection. */
function breaking(bytes: Buffer): Readable {
  return new Readable({
    read() {
      this.push(bytes);
      this.destroy(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    },
  });
}

function collect(): { sink: (view: Uint8Array) => void; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  return { sink: (view) => parts.push(Buffer.from(view)), bytes: () => Buffer.concat(parts) };
}

const base = { signal: undefined, operation: "download blob", reference: "r@sha256:x" };

describe("resumableBody drained", () => {
  it("is drainable, and hands over every byte of a plain body", async () => {
    const body = resumableBody({
      ...base,
      first: response(200, Readable.from([BLOB.subarray(0, 100), BLOB.subarray(100)])),
      open: () => Promise.reject(new Error("not asked")),
      size: BLOB.length,
    });
    expect(isDrainable(body)).toBe(true);
    const out = collect();
    await (body as unknown as { [DRAIN]: (s: (v: Uint8Array) => void) => Promise<void> })[DRAIN](
      out.sink,
    );
    expect(out.bytes().equals(BLOB)).toBe(true);
  });

  it("resumes a broken body from where it stopped, with Range, delivering nothing twice", async () => {
    const asked: number[] = [];
    const body = resumableBody({
      ...base,
      first: response(200, breaking(BLOB.subarray(0, 1234))),
      open: async (offset) => {
        asked.push(offset);
        return response(206, Readable.from([BLOB.subarray(offset)]), {
          "content-range": `bytes ${offset}-${BLOB.length - 1}/${BLOB.length}`,
        });
      },
      size: BLOB.length,
    });
    const out = collect();
    await (body as unknown as { [DRAIN]: (s: (v: Uint8Array) => void) => Promise<void> })[DRAIN](
      out.sink,
    );
    expect(asked).toEqual([1234]);
    expect(out.bytes().equals(BLOB)).toBe(true);
  });

  it("skips what it already has when the server ignores Range", async () => {
    const body = resumableBody({
      ...base,
      first: response(200, breaking(BLOB.subarray(0, 777))),
      open: async () => response(200, Readable.from([BLOB.subarray(0, 500), BLOB.subarray(500)])),
      size: BLOB.length,
    });
    const out = collect();
    await (body as unknown as { [DRAIN]: (s: (v: Uint8Array) => void) => Promise<void> })[DRAIN](
      out.sink,
    );
    expect(out.bytes().equals(BLOB)).toBe(true);
  });

  it("holds the body while the sink's promise is pending, and fails with its rejection", async () => {
    const chunks = Array.from({ length: 10 }, (_, i) => BLOB.subarray(i * 500, (i + 1) * 500));
    const held = resumableBody({
      ...base,
      first: response(200, Readable.from(chunks)),
      open: () => Promise.reject(new Error("not asked")),
      size: BLOB.length,
    }) as unknown as { [DRAIN]: (s: (v: Uint8Array) => unknown) => Promise<void> };
    const parts: Buffer[] = [];
    let waiting = false;
    await held[DRAIN]((view) => {
      expect(waiting).toBe(false);
      parts.push(Buffer.from(view));
      waiting = true;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          waiting = false;
          resolve();
        }, 2),
      );
    });
    expect(Buffer.concat(parts).equals(BLOB)).toBe(true);

    const refused = new Error("the upload failed");
    const failing = resumableBody({
      ...base,
      first: response(200, Readable.from(chunks)),
      open: () => Promise.reject(new Error("not asked")),
      size: BLOB.length,
    }) as unknown as { [DRAIN]: (s: (v: Uint8Array) => unknown) => Promise<void> };
    await expect(failing[DRAIN](() => Promise.reject(refused))).rejects.toBe(refused);
  });

  it("fails with what the sink threw, without asking again", async () => {
    let opened = 0;
    const body = resumableBody({
      ...base,
      first: response(200, Readable.from([BLOB])),
      open: async () => {
        opened++;
        return response(200, Readable.from([BLOB]));
      },
      size: BLOB.length,
    });
    const wrong = new Error("digest mismatch");
    await expect(
      (body as unknown as { [DRAIN]: (s: (v: Uint8Array) => void) => Promise<void> })[DRAIN](() => {
        throw wrong;
      }),
    ).rejects.toBe(wrong);
    expect(opened).toBe(0);
  });

  it("still reads as a stream when it is not drained", async () => {
    const body = resumableBody({
      ...base,
      first: response(200, breaking(BLOB.subarray(0, 10))),
      open: async (offset) =>
        response(206, Readable.from([BLOB.subarray(offset)]), {
          "content-range": `bytes ${offset}-${BLOB.length - 1}/${BLOB.length}`,
        }),
      size: BLOB.length,
    });
    expect((await buffer(body)).equals(BLOB)).toBe(true);
  });
});
