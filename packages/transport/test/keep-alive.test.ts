import { connect, createServer, type Server, type Socket } from "node:net";
import { manualClock, useDockerRegistry, useStarted } from "@hoist/harness";
import { afterAll, describe, expect, it } from "vitest";
import { createTransport } from "../src/index.js";
import { pushBlob, registryAt } from "./helpers.js";

interface CountingServer {
  readonly host: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Listens on loopback, counting connections and handing each socket to `serve`. */
async function countingServer(serve: (socket: Socket) => void): Promise<CountingServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    serve(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    host: `127.0.0.1:${address.port}`,
    connections: () => accepted,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A real registry behind a byte-for-byte relay, there only to count connections. */
function useRegistryRelay(): () => CountingServer {
  const registry = useDockerRegistry();
  return useStarted<CountingServer>(
    "relay",
    () =>
      countingServer((socket) => {
        const upstream = connect(registry().port, "127.0.0.1");
        upstream.on("error", () => socket.destroy());
        socket.on("close", () => upstream.destroy());
        upstream.on("close", () => socket.destroy());
        socket.pipe(upstream).pipe(socket);
      }),
    (server) => server.close(),
  );
}

describe("connections kept across HEAD requests", () => {
  const relay = useRegistryRelay();
  const transport = createTransport({ clock: manualClock() });
  afterAll(() => transport.close());

  it("checks blobs, found and missing, over the connection it already has", async () => {
    const session = await transport.session({ registry: registryAt(relay().host) });
    const digest = await pushBlob(session, "keep/alive", new TextEncoder().encode("kept"));
    const missing = `sha256:${"0".repeat(64)}`;
    const before = relay().connections();
    for (let i = 0; i < 10; i++) {
      const found = await session.request({
        method: "HEAD",
        path: `/v2/keep/alive/blobs/${digest}`,
      });
      expect(found.status).toBe(200);
      const absent = await session.request({
        method: "HEAD",
        path: `/v2/keep/alive/blobs/${missing}`,
        expectStatus: [404],
      });
      expect(absent.status).toBe(404);
    }
    const get = await session.request({ method: "GET", path: `/v2/keep/alive/blobs/${digest}` });
    expect(new TextDecoder().decode(await get.bytes())).toBe("kept");
    expect(relay().connections()).toBe(before);
  });
});

describe("bodies discarded on the transport's own connections", () => {
  const relay = useRegistryRelay();
  // One connection: whether the next request needs a new one shows what a discard did.
  const transport = createTransport({ clock: manualClock(), connectionsPerOrigin: 1 });
  afterAll(() => transport.close());

  it("reads a small body to its end and keeps the connection, but closes one past 128 KiB", async () => {
    const session = await transport.session({ registry: registryAt(relay().host) });
    const small = await pushBlob(session, "discard/me", new TextEncoder().encode("small"));
    const large = await pushBlob(session, "discard/me", new Uint8Array(4 * 1024 * 1024).fill(7));
    const get = (digest: string) =>
      session.request({ method: "GET", path: `/v2/discard/me/blobs/${digest}` });

    const before = relay().connections();
    await (await get(small)).discard();
    await (await get(small)).discard();
    expect(relay().connections()).toBe(before);

    const dropped = await get(large);
    expect(dropped.headers.get("content-length")).toBe(String(4 * 1024 * 1024));
    await dropped.discard();
    // The 4 MiB were not downloaded only to be dropped: the next request needs a new connection.
    const after = await get(small);
    expect(new TextDecoder().decode(await after.bytes())).toBe("small");
    expect(relay().connections()).toBe(before + 1);
  });
});

/**
 * Answers HEAD with a body anyway, shaped like the start of another answer: in the same write,
 * or `strayAfterMs` later while the next request waits for its answer.
 */
function misbehavingServer(strayAfterMs?: number): Promise<CountingServer> {
  return countingServer((socket) => {
    let pending = "";
    socket.setEncoding("latin1");
    socket.on("data", (data: string) => {
      pending += data;
      // The https attempt of the ping: not HTTP, so no answer but a close.
      if (pending.startsWith("\x16")) return void socket.destroy();
      for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        const stray = `{"errors":[{"code":"BLOB_UNKNOWN"}]}`;
        const answer = (body: string) =>
          `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
        if (!head.startsWith("HEAD ")) {
          const real = answer("the real body");
          if (strayAfterMs === undefined) socket.write(real);
          else setTimeout(() => socket.write(real), strayAfterMs * 3);
        } else if (strayAfterMs === undefined) {
          socket.write(answer(stray));
        } else {
          socket.write(answer(stray).slice(0, -stray.length));
          setTimeout(() => socket.write(stray), strayAfterMs);
        }
      }
    });
  });
}

// What undici's close-after-HEAD guarded against: the stray bytes must not become the answer
// to the next request on the connection.
describe.each([
  ["in the same write", undefined],
  ["while the next request waits", 20],
])("a server that sends a body with its HEAD answer %s", (_when, strayAfterMs) => {
  const server = useStarted<CountingServer>(
    "misbehaving server",
    () => misbehavingServer(strayAfterMs),
    (s) => s.close(),
  );
  // One connection, so the request after a HEAD goes where the stray bytes arrive.
  const transport = createTransport({ clock: manualClock(), connectionsPerOrigin: 1 });
  afterAll(() => transport.close());

  it("still gives each later request its own answer", async () => {
    const session = await transport.session({ registry: registryAt(server().host) });
    for (let i = 0; i < 3; i++) {
      const head = await session.request({ method: "HEAD", path: "/v2/any/blobs/x" });
      expect(head.status).toBe(200);
      const get = await session.request({ method: "GET", path: "/v2/any/blobs/x" });
      expect(new TextDecoder().decode(await get.bytes())).toBe("the real body");
    }
  });
});
