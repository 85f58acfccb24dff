import { createHash } from "node:crypto";
import { createServer, type Socket } from "node:net";
import { Readable } from "node:stream";
import { DRAIN, type Drainable, type DrainSink, FILL, type Fillable } from "@hoist/oci";
import { describe, expect, it, vi } from "vitest";
import { directHarness } from "../../test/direct-harness.js";
import type { DirectPool } from "./direct-pool.js";

/** A body of `length` deterministic bytes, filled into whatever buffers it is handed. */
class PatternSource extends Readable implements Fillable {
  readonly buffers = new Set<ArrayBufferLike>();
  #offset = 0;
  constructor(
    readonly length: number,
    readonly options: { actual?: number; failAt?: number } = {},
  ) {
    super();
  }
  override _read(): void {
    this.destroy(new Error("PatternSource is only filled"));
  }
  [FILL](into: Uint8Array): number {
    this.buffers.add(into.buffer);
    const end = this.options.actual ?? this.length;
    if (this.options.failAt !== undefined && this.#offset >= this.options.failAt) {
      throw new Error("the disk went away");
    }
    const bytes = Math.min(into.length, end - this.#offset);
    for (let i = 0; i < bytes; i++) into[i] = (this.#offset + i) % 251;
    this.#offset += bytes;
    return bytes;
  }
}

/**
 * A body of `length` deterministic bytes handed over in views of one reused buffer, as a
 * verified download is; `wrongAtEnd` rejects the drain after the last view, as a verifier does
 * for a wrong digest. It records the most views it had handed over without the sink catching up.
 */
class DrainedSource extends Readable implements Drainable {
  waits = 0;
  constructor(
    readonly length: number,
    readonly options: { actual?: number; wrongAtEnd?: boolean; view?: number } = {},
  ) {
    super();
  }
  override _read(): void {
    this.destroy(new Error("DrainedSource is only drained"));
  }
  async [DRAIN](sink: DrainSink): Promise<void> {
    const end = this.options.actual ?? this.length;
    const reused = Buffer.alloc(this.options.view ?? 100_000);
    for (let offset = 0; offset < end; ) {
      const bytes = Math.min(reused.length, end - offset);
      for (let i = 0; i < bytes; i++) reused[i] = (offset + i) % 251;
      offset += bytes;
      const waiting = sink(reused.subarray(0, bytes));
      reused.fill(0);
      if (waiting) {
        this.waits++;
        await waiting;
      }
    }
    if (this.options.wrongAtEnd) throw new Error("sha256 mismatch");
  }
}

function pattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = i % 251;
  return bytes;
}

interface Received {
  head: string;
  bytes: number;
  sha256: string;
}

/**
 * A server that reads each request's head and Content-Length body, then lets `answer` reply.
 * `early` answers right after the head instead, without reading the body.
 */
async function uploadServer(
  answer: (socket: Socket, request: Received, index: number) => void,
  options: { early?: boolean; stall?: boolean } = {},
): Promise<{ url: URL; connections: () => number; received: () => number }> {
  let connections = 0;
  let requests = 0;
  let received = 0;
  const server = createServer((socket) => {
    connections++;
    socket.on("error", () => {});
    if (options.stall) {
      socket.pause();
      return;
    }
    let pending = Buffer.alloc(0);
    let head: string | undefined;
    let remaining = 0;
    let hash = createHash("sha256");
    let bytes = 0;
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (head === undefined) {
          const end = pending.indexOf("\r\n\r\n");
          if (end < 0) return;
          head = pending.subarray(0, end).toString("latin1");
          pending = pending.subarray(end + 4);
          remaining = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          hash = createHash("sha256");
          bytes = 0;
          if (options.early) {
            answer(socket, { head, bytes: 0, sha256: "" }, requests++);
            pending = Buffer.alloc(0);
            return;
          }
        }
        const take = Math.min(remaining, pending.length);
        hash.update(pending.subarray(0, take));
        bytes += take;
        received += take;
        remaining -= take;
        pending = pending.subarray(take);
        if (remaining > 0) return;
        const request = { head, bytes, sha256: hash.digest("hex") };
        head = undefined;
        answer(socket, request, requests++);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  track(server);
  const { port } = server.address() as { port: number };
  return {
    url: new URL(`http://127.0.0.1:${port}/v2/r/blobs/uploads/u?digest=sha256%3Ax`),
    connections: () => connections,
    received: () => received,
  };
}

const { pool, track } = directHarness();

function put(
  direct: DirectPool,
  url: URL,
  source: PatternSource | DrainedSource,
  signal?: AbortSignal,
) {
  return direct.request(
    {
      method: "PUT",
      url,
      headers: { "content-length": String(source.length) },
      upload: { source, length: source.length },
    },
    signal ?? new AbortController().signal,
  );
}

async function text(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

const created = (socket: Socket, request: Received) =>
  socket.write(
    `HTTP/1.1 201 Created\r\nContent-Length: ${request.sha256.length}\r\n\r\n${request.sha256}`,
  );

describe("DirectPool uploads", () => {
  it("sends the body byte-exact from a few reused buffers, and keeps the connection", async () => {
    const server = await uploadServer(created);
    const direct = pool();
    const length = 24 * 1024 * 1024 + 7;
    const expected = createHash("sha256").update(pattern(length)).digest("hex");
    const buffers = new Set<ArrayBufferLike>();
    for (let round = 0; round < 2; round++) {
      const source = new PatternSource(length);
      const answer = await put(direct, server.url, source);
      expect(answer?.statusCode).toBe(201);
      expect(await text(answer?.body as Readable)).toBe(expected);
      expect(source.destroyed).toBe(true);
      for (const buffer of source.buffers) buffers.add(buffer);
    }
    // 96 reads of 256 KiB, from at most what 4 MiB of queued writes hold (plus the end probe).
    expect(buffers.size).toBeLessThanOrEqual(18);
    expect(server.connections()).toBe(1);
  });

  it("takes an answer that comes before the body is sent, and does not reuse that connection", async () => {
    const server = await uploadServer(
      (socket) => socket.write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nbig!"),
      { early: true },
    );
    const direct = pool();
    const source = new PatternSource(64 * 1024 * 1024);
    const answer = await put(direct, server.url, source);
    expect(answer?.statusCode).toBe(413);
    expect(await text(answer?.body as Readable)).toBe("big!");
    await vi.waitFor(() => expect(source.destroyed).toBe(true));
    const again = await put(direct, server.url, new PatternSource(10));
    expect(again?.statusCode).toBe(413);
    expect(server.connections()).toBe(2);
  });

  it.each([
    ["shorter than announced", { actual: 3 * 1024 * 1024 }, /ended after 3145728 of the 4194304/],
    ["longer than announced", { actual: 4 * 1024 * 1024 + 1 }, /longer than the 4194304/],
    ["failing", { failAt: 1024 * 1024 }, /the disk went away/],
  ])("fails on a source %s before the registry has the whole body", async (_, options, message) => {
    const server = await uploadServer(created);
    const source = new PatternSource(4 * 1024 * 1024, options);
    await expect(put(pool(), server.url, source)).rejects.toThrow(message);
    expect(source.destroyed).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.received()).toBeLessThan(4 * 1024 * 1024);
  });

  it("reads an answer that ends with the connection, after an interim one", async () => {
    const server = await uploadServer((socket) => {
      socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      socket.end("HTTP/1.1 201 Created\r\nLocation: /v2/r/blobs/x\r\n\r\nstored");
    });
    const answer = await put(pool(), server.url, new PatternSource(1000));
    expect(answer?.statusCode).toBe(201);
    expect(answer?.headers.get("location")).toBe("/v2/r/blobs/x");
    expect(await text(answer?.body as Readable)).toBe("stored");
  });

  it("refuses an answer framed two ways at once", async () => {
    const server = await uploadServer((socket) =>
      socket.write(
        "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      ),
    );
    await expect(put(pool(), server.url, new PatternSource(1000))).rejects.toMatchObject({
      code: "HPE_UNEXPECTED_CONTENT_LENGTH",
    });
  });

  it("times out a registry that takes no bytes and sends no answer", async () => {
    const server = await uploadServer(() => {}, { stall: true });
    const source = new PatternSource(256 * 1024 * 1024);
    await expect(put(pool({ headersTimeoutMs: 300 }), server.url, source)).rejects.toMatchObject({
      code: "UND_ERR_HEADERS_TIMEOUT",
    });
    expect(source.destroyed).toBe(true);
  });

  it("stops an upload when aborted", async () => {
    const server = await uploadServer(() => {}, { stall: true });
    const controller = new AbortController();
    const reason = new Error("stop");
    setTimeout(() => controller.abort(reason), 100);
    const source = new PatternSource(256 * 1024 * 1024);
    await expect(put(pool(), server.url, source, controller.signal)).rejects.toBe(reason);
    expect(source.destroyed).toBe(true);
  });

  it("copies a drained body into reused buffers, byte-exact, waiting for the socket", async () => {
    const server = await uploadServer(created);
    const length = 24 * 1024 * 1024 + 7;
    const source = new DrainedSource(length);
    const answer = await put(pool(), server.url, source);
    expect(answer?.statusCode).toBe(201);
    expect(await text(answer?.body as Readable)).toBe(
      createHash("sha256").update(pattern(length)).digest("hex"),
    );
    // The drain was held while 16 writes were in flight, not queued without bound.
    expect(source.waits).toBeGreaterThan(0);
    expect(source.destroyed).toBe(true);
  });

  it.each([
    ["shorter than announced", { actual: 3 * 1024 * 1024 }, /ended after 3145728 of the 4194304/],
    ["longer than announced", { actual: 4 * 1024 * 1024 + 1 }, /longer than the 4194304/],
    ["found wrong at its end", { wrongAtEnd: true }, /sha256 mismatch/],
  ])("never sends the last bytes of a drained body %s", async (_, options, message) => {
    const server = await uploadServer(created);
    const source = new DrainedSource(4 * 1024 * 1024, options);
    await expect(put(pool(), server.url, source)).rejects.toThrow(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.received()).toBeLessThan(4 * 1024 * 1024);
  });

  it("stops draining when the answer comes first", async () => {
    const server = await uploadServer(
      (socket) => socket.write("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"),
      { early: true },
    );
    const source = new DrainedSource(64 * 1024 * 1024);
    const answer = await put(pool(), server.url, source);
    expect(answer?.statusCode).toBe(401);
    await vi.waitFor(() => expect(source.destroyed).toBe(true));
  });
});
