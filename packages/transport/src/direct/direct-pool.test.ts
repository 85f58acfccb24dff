import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { directHarness } from "../../test/direct-harness.js";
import type { DirectBody } from "./body.js";
import type { DirectAnswer, DirectPool } from "./direct-pool.js";

/** A server that answers each request head with whatever `answer` writes on the socket. */
async function rawServer(
  answer: (socket: Socket, request: string, index: number) => void,
): Promise<{ url: URL; server: Server; connections: () => number }> {
  let connections = 0;
  let requests = 0;
  const server = createServer((socket) => {
    connections++;
    let pending = "";
    socket.on("data", (chunk) => {
      pending += chunk.toString("latin1");
      for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
        const request = pending.slice(0, end);
        pending = pending.slice(end + 4);
        answer(socket, request, requests++);
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  track(server);
  return {
    url: new URL(`http://127.0.0.1:${address.port}/v2/r/blobs/x`),
    server,
    connections: () => connections,
  };
}

const { pool, track } = directHarness();

function ok(socket: Socket, body: Buffer, extra = ""): void {
  socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n`);
  socket.write(body);
}

async function drained(pool: DirectPool, url: URL): Promise<Buffer> {
  const answer = await pool.request(
    { method: "GET", url, headers: {} },
    new AbortController().signal,
  );
  if (!answer) throw new Error("no direct answer");
  const parts: Buffer[] = [];
  await bodyOf(answer).drainTo((view) => parts.push(Buffer.from(view)));
  return Buffer.concat(parts);
}

describe("DirectPool GETs", () => {
  it("delivers a body byte for byte, drained or read as a stream, on one kept connection", async () => {
    const blob = randomBytes(3 * 1024 * 1024 + 17);
    const { url, connections } = await rawServer((socket) => ok(socket, blob));
    const direct = pool();
    expect((await drained(direct, url)).equals(blob)).toBe(true);
    const answer = await direct.request(
      { method: "GET", url, headers: { accept: "*/*" } },
      new AbortController().signal,
    );
    expect(answer?.statusCode).toBe(200);
    expect(answer?.headers.get("content-length")).toBe(String(blob.length));
    const parts: Buffer[] = [];
    for await (const chunk of answer?.body ?? []) parts.push(chunk as Buffer);
    expect(createHash("sha256").update(Buffer.concat(parts)).digest("hex")).toBe(
      createHash("sha256").update(blob).digest("hex"),
    );
    expect(connections()).toBe(1);
  });

  it("reads no more of a drained body while the sink's promise is pending", async () => {
    const blob = randomBytes(4 * 1024 * 1024);
    const { url } = await rawServer((socket) => ok(socket, blob));
    const answer = await pool().request(
      { method: "GET", url, headers: {} },
      new AbortController().signal,
    );
    const parts: Buffer[] = [];
    let held = false;
    let views = 0;
    await bodyOf(answer).drainTo((view) => {
      // A view while the sink is held would break the promise the sink relies on.
      expect(held).toBe(false);
      parts.push(Buffer.from(view));
      if (++views % 3 !== 0) return undefined;
      held = true;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          held = false;
          resolve();
        }, 5),
      );
    });
    expect(Buffer.concat(parts).equals(blob)).toBe(true);
    expect(views).toBeGreaterThan(3);
  });

  it("hands a body drained late over in place, every view from the connection's one buffer", async () => {
    const blob = randomBytes(3 * 1024 * 1024 + 5);
    const { url } = await rawServer((socket) => ok(socket, blob));
    const answer = await pool().request(
      { method: "GET", url, headers: {} },
      new AbortController().signal,
    );
    // The read that held the head waits, with whatever body bytes came in it, for the drain.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const buffers = new Set<ArrayBufferLike>();
    const parts: Buffer[] = [];
    await bodyOf(answer).drainTo((view) => {
      buffers.add(view.buffer);
      parts.push(Buffer.from(view));
    });
    expect(Buffer.concat(parts).equals(blob)).toBe(true);
    // Nothing was copied into a buffer of its own before the drain began.
    expect(buffers.size).toBe(1);
  });

  it("keeps a body that ended in the head's read intact while its connection serves others", async () => {
    const small = [randomBytes(1000), randomBytes(1000), randomBytes(1000)];
    const { url, connections } = await rawServer((socket, _request, index) => {
      const body = small[index] as Buffer;
      // Head and body in one write, so that they come in one read.
      socket.write(
        Buffer.concat([
          Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`),
          body,
        ]),
      );
    });
    const direct = pool();
    const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
    const first = await direct.request(
      { method: "GET", url, headers: {} },
      new AbortController().signal,
    );
    await settle();
    const second = await direct.request(
      { method: "GET", url, headers: {} },
      new AbortController().signal,
    );
    await settle();
    // The third answer is read into the same connection buffer the first two came in.
    expect((await drained(direct, url)).equals(small[2] as Buffer)).toBe(true);
    expect(connections()).toBe(1);
    const parts: Buffer[] = [];
    await bodyOf(first).drainTo((view) => parts.push(Buffer.from(view)));
    expect(Buffer.concat(parts).equals(small[0] as Buffer)).toBe(true);
    const streamed: Buffer[] = [];
    for await (const chunk of second?.body ?? []) streamed.push(chunk as Buffer);
    expect(Buffer.concat(streamed).equals(small[1] as Buffer)).toBe(true);
  });

  it("gives a body read as a stream late its first bytes first", async () => {
    const blob = randomBytes(2 * 1024 * 1024 + 3);
    const { url } = await rawServer((socket) => ok(socket, blob));
    const answer = await pool().request(
      { method: "GET", url, headers: {} },
      new AbortController().signal,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const parts: Buffer[] = [];
    for await (const chunk of answer?.body ?? []) parts.push(chunk as Buffer);
    expect(Buffer.concat(parts).equals(blob)).toBe(true);
  });

  it("sends the request's headers and the host", async () => {
    let seen = "";
    const { url } = await rawServer((socket, request) => {
      seen = request;
      ok(socket, Buffer.from("x"));
    });
    await drained(pool(), url);
    const answer = await pool().request(
      { method: "GET", url, headers: { authorization: "Bearer t" } },
      new AbortController().signal,
    );
    await bodyOf(answer).drainTo(() => {});
    expect(seen).toContain(`GET /v2/r/blobs/x HTTP/1.1\r\nhost: ${url.host}`);
    expect(seen).toContain("authorization: Bearer t");
  });

  it("decodes a chunked body and keeps the connection", async () => {
    const { url, connections } = await rawServer((socket) =>
      socket.write(
        "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nA: b\r\n\r\n",
      ),
    );
    const direct = pool();
    expect((await drained(direct, url)).toString()).toBe("abc");
    expect((await drained(direct, url)).toString()).toBe("abc");
    expect(connections()).toBe(1);
  });

  it("keeps every chunk of a chunked body that waits for its drain, in order", async () => {
    const pieces = ["first,", "second,", "third"];
    const { url } = await rawServer((socket) =>
      socket.write(
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${pieces
          .map((piece) => `${piece.length.toString(16)}\r\n${piece}\r\n`)
          .join("")}0\r\n\r\n`,
      ),
    );
    const direct = pool();
    const answer = await direct.request(
      { method: "GET", url, headers: {} },
      new AbortController().signal,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Another answer read into the connection's buffer meanwhile.
    expect((await drained(direct, url)).toString()).toBe(pieces.join(""));
    const parts: Buffer[] = [];
    await bodyOf(answer).drainTo((view) => parts.push(Buffer.from(view)));
    expect(Buffer.concat(parts).toString()).toBe(pieces.join(""));
  });

  it("fails a body whose chunks are not the chunked coding", async () => {
    const { url } = await rawServer((socket) =>
      socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n"),
    );
    const answer = await pool().request(
      { method: "GET", url, headers: {} },
      new AbortController().signal,
    );
    await expect(bodyOf(answer).drainTo(() => {})).rejects.toMatchObject({
      code: "HPE_INVALID_CHUNK_SIZE",
    });
  });

  it("leaves answers without a length and unreadable heads to undici", async () => {
    for (const reply of [
      "HTTP/1.1 200 OK\r\n\r\nuntil close",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 1\r\n\r\na",
      "SSH-2.0-OpenSSH\r\n\r\n",
    ]) {
      const { url } = await rawServer((socket) => socket.write(reply));
      await expect(
        pool().request({ method: "GET", url, headers: {} }, new AbortController().signal),
      ).resolves.toBeUndefined();
    }
  });

  it("refuses to send a header that would break the request apart", async () => {
    const { url } = await rawServer((socket) => ok(socket, Buffer.from("x")));
    await expect(
      pool().request(
        { method: "GET", url, headers: { "x-evil": "a\r\nx-injected: 1" } },
        new AbortController().signal,
      ),
    ).resolves.toBeUndefined();
  });

  it("fails a body cut short with undici's socket error code", async () => {
    const { url } = await rawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
      socket.end(Buffer.alloc(1000));
    });
    const answer = await pool().request(
      { method: "GET", url, headers: {} },
      new AbortController().signal,
    );
    let got = 0;
    const error = await bodyOf(answer)
      .drainTo((view) => {
        got += view.length;
      })
      .catch((failure: unknown) => failure);
    expect(got).toBe(1000);
    expect(error).toMatchObject({ code: "UND_ERR_SOCKET" });
  });

  it("keeps exactly the stated length and drops a connection that sent more", async () => {
    const { url, connections } = await rawServer((socket) =>
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA BYTES"),
    );
    const direct = pool();
    expect((await drained(direct, url)).toString()).toBe("hello");
    expect((await drained(direct, url)).toString()).toBe("hello");
    expect(connections()).toBe(2);
  });

  it("gives up on a body that stops coming", async () => {
    const { url } = await rawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    });
    const answer = await pool({ bodyTimeoutMs: 100 }).request(
      { method: "GET", url, headers: {} },
      new AbortController().signal,
    );
    await expect(bodyOf(answer).drainTo(() => {})).rejects.toMatchObject({
      code: "UND_ERR_BODY_TIMEOUT",
    });
  });

  it("waits for its reader however long, and times the registry again once it reads", async () => {
    const blob = randomBytes(4 * 1024 * 1024);
    const { url } = await rawServer((socket, _request, index) => {
      if (index === 0) ok(socket, blob);
      else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    });
    const direct = pool({ bodyTimeoutMs: 100 });
    const signal = new AbortController().signal;
    // Nobody reads for three times the body timeout: the registry was not silent, the reader was.
    const unread = await direct.request({ method: "GET", url, headers: {} }, signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const parts: Buffer[] = [];
    let held = 0;
    await bodyOf(unread).drainTo((view) => {
      parts.push(Buffer.from(view));
      // A sink that keeps the socket waiting longer than the timeout, twice.
      if (held++ >= 2) return undefined;
      return new Promise<void>((resolve) => setTimeout(resolve, 250));
    });
    expect(Buffer.concat(parts).equals(blob)).toBe(true);
    // Read late, a body that stops coming still fails, the timeout counted from the first read.
    const stalled = await direct.request({ method: "GET", url, headers: {} }, signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await expect(bodyOf(stalled).drainTo(() => {})).rejects.toMatchObject({
      code: "UND_ERR_BODY_TIMEOUT",
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it("gives up on an answer that never comes", async () => {
    const { url } = await rawServer(() => {});
    await expect(
      pool({ headersTimeoutMs: 100 }).request(
        { method: "GET", url, headers: {} },
        new AbortController().signal,
      ),
    ).rejects.toMatchObject({ code: "UND_ERR_HEADERS_TIMEOUT" });
  });

  it("stops at an abort, with the signal's reason", async () => {
    const { url } = await rawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    });
    const controller = new AbortController();
    const answer = await pool().request({ method: "GET", url, headers: {} }, controller.signal);
    const drained = bodyOf(answer).drainTo(() => {});
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(drained).rejects.toBe(reason);
  });

  it("fails the drain with what the sink threw, and closes the connection", async () => {
    const { url, connections } = await rawServer((socket) => ok(socket, Buffer.alloc(1 << 20)));
    const direct = pool();
    const answer = await direct.request(
      { method: "GET", url, headers: {} },
      new AbortController().signal,
    );
    const wrong = new Error("wrong bytes");
    await expect(
      bodyOf(answer).drainTo(() => {
        throw wrong;
      }),
    ).rejects.toBe(wrong);
    await drained(direct, url);
    expect(connections()).toBe(2);
  });

  it("asks again on a new connection when a kept one was closed by the registry", async () => {
    const { url, connections } = await rawServer((socket, _request, index) => {
      ok(socket, Buffer.from("abc"));
      if (index === 0) setTimeout(() => socket.destroy(), 20);
    });
    const direct = pool();
    expect((await drained(direct, url)).toString()).toBe("abc");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await drained(direct, url)).toString()).toBe("abc");
    expect(connections()).toBe(2);
  });

  it("reuses a connection after an HTTP/1.0 answer only if it says keep-alive", async () => {
    for (const [extra, expected] of [
      ["", 2],
      ["Connection: keep-alive\r\n", 1],
    ] as const) {
      // The server leaves the connection open either way: only the answer says what it means.
      const { url, connections } = await rawServer((socket) =>
        socket.write(`HTTP/1.0 200 OK\r\nContent-Length: 3\r\n${extra}\r\nabc`),
      );
      const direct = pool();
      expect((await drained(direct, url)).toString()).toBe("abc");
      expect((await drained(direct, url)).toString()).toBe("abc");
      expect(connections()).toBe(expected);
    }
  });

  it("passes any status with a stated length on, body and all", async () => {
    const { url } = await rawServer((socket) =>
      socket.write(
        'HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{"errors":[{"x":1}]}\n',
      ),
    );
    const answer = await pool().request(
      { method: "GET", url, headers: {} },
      new AbortController().signal,
    );
    expect(answer?.statusCode).toBe(404);
    const parts: Buffer[] = [];
    for await (const chunk of answer?.body ?? []) parts.push(chunk as Buffer);
    expect(Buffer.concat(parts).toString()).toBe('{"errors":[{"x":1}]}\n');
  });
});

/** A server that reads each request's body by its Content-Length and keeps what it received. */
async function recordingServer(
  answer: (socket: Socket, head: string, body: Buffer, index: number) => void,
): Promise<{
  url: URL;
  received: Array<{ head: string; body: string }>;
  connections: () => number;
}> {
  const received: Array<{ head: string; body: string }> = [];
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const end = pending.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = pending.subarray(0, end).toString("latin1");
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const body = pending.subarray(end + 4, end + 4 + length);
        pending = pending.subarray(end + 4 + length);
        received.push({ head, body: body.toString("latin1") });
        answer(socket, head, body, received.length - 1);
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  track(server);
  const { port } = server.address() as { port: number };
  return {
    url: new URL(`http://127.0.0.1:${port}/v2/r/blobs/uploads/`),
    received,
    connections: () => connections,
  };
}

/** The body of a direct answer that has one. */
function bodyOf(answer: DirectAnswer | undefined): DirectBody {
  if (answer?.body === undefined) throw new Error("no direct answer with a body");
  return answer.body;
}

async function text(
  answer: { body: AsyncIterable<unknown> | undefined } | undefined,
): Promise<string> {
  if (!answer) throw new Error("no direct answer");
  const parts: Buffer[] = [];
  for await (const chunk of answer.body ?? []) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString("latin1");
}

const signal = () => new AbortController().signal;

describe("DirectPool requests other than GETs", () => {
  it("reads a HEAD's answer as its head alone, whatever length it states, and keeps the connection", async () => {
    const { url, connections } = await recordingServer((socket, head) => {
      if (head.startsWith("HEAD")) {
        socket.write(
          "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nDocker-Content-Digest: sha256:x\r\n\r\n",
        );
      } else ok(socket, Buffer.from("abc"));
    });
    const direct = pool();
    const answer = await direct.request({ method: "HEAD", url, headers: {} }, signal());
    expect(answer?.statusCode).toBe(200);
    expect(answer?.headers.get("content-length")).toBe("1234");
    expect(await text(answer)).toBe("");
    expect(await text(await direct.request({ method: "GET", url, headers: {} }, signal()))).toBe(
      "abc",
    );
    expect(connections()).toBe(1);
  });

  it("drops a connection whose HEAD answer came with a body anyway", async () => {
    const { url, connections } = await recordingServer((socket, head) => {
      if (head.startsWith("HEAD")) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz");
      else ok(socket, Buffer.from("abc"));
    });
    const direct = pool();
    expect(await text(await direct.request({ method: "HEAD", url, headers: {} }, signal()))).toBe(
      "",
    );
    expect(await text(await direct.request({ method: "GET", url, headers: {} }, signal()))).toBe(
      "abc",
    );
    expect(connections()).toBe(2);
  });

  it("sends a body held in memory with its head, and announces an empty POST body", async () => {
    const { url, received } = await recordingServer((socket) =>
      socket.write("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"),
    );
    const direct = pool();
    const put = await direct.request(
      { method: "PUT", url, headers: { "content-length": "5" }, bytes: Buffer.from("hello") },
      signal(),
    );
    expect(put?.statusCode).toBe(202);
    await text(put);
    const post = await direct.request({ method: "POST", url, headers: {} }, signal());
    expect(post?.statusCode).toBe(202);
    await text(post);
    expect(received.map((r) => r.body)).toEqual(["hello", ""]);
    expect(received[1]?.head).toMatch(/\r\ncontent-length: 0(\r\n|$)/);
  });

  it("leaves a body whose stated length is not its own to undici", async () => {
    const { url, received } = await recordingServer((socket) => ok(socket, Buffer.from("")));
    await expect(
      pool().request(
        { method: "PUT", url, headers: { "content-length": "9" }, bytes: Buffer.from("hello") },
        signal(),
      ),
    ).resolves.toBeUndefined();
    expect(received).toEqual([]);
  });

  it("reads a POST's answer that ends with the connection, and never sends the POST twice", async () => {
    const { url, received } = await recordingServer((socket) =>
      socket.end("HTTP/1.1 202 Accepted\r\n\r\nuntil close"),
    );
    const answer = await pool().request({ method: "POST", url, headers: {} }, signal());
    expect(answer?.statusCode).toBe(202);
    expect(await text(answer)).toBe("until close");
    expect(received).toHaveLength(1);
  });

  it("sends an idempotent request again when a kept connection fails before answering, a POST not", async () => {
    const { url, received } = await recordingServer((socket, _head, _body, index) => {
      // Every second request finds its connection closed under it.
      if (index % 2 === 1) socket.destroy();
      else socket.write("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    });
    const direct = pool();
    await text(await direct.request({ method: "GET", url, headers: {} }, signal()));
    const put = await direct.request(
      { method: "PUT", url, headers: { "content-length": "1" }, bytes: Buffer.from("a") },
      signal(),
    );
    expect(put?.statusCode).toBe(201);
    await text(put);
    expect(received.map((r) => r.head.split(" ")[0])).toEqual(["GET", "PUT", "PUT"]);
    await expect(direct.request({ method: "POST", url, headers: {} }, signal())).rejects.toThrow();
    expect(received.map((r) => r.head.split(" ")[0])).toEqual(["GET", "PUT", "PUT", "POST"]);
  });
});
