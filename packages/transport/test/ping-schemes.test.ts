import { createServer, type Server, type Socket } from "node:net";
import { useStarted } from "@hoist/harness";
import { afterEach, describe, expect, it } from "vitest";
import { type Clock, createTransport } from "../src/index.js";
import { asksHttpFirst } from "../src/ping.js";
import { registryAt } from "./helpers.js";

interface SchemeServer {
  /** "127.0.0.1:port". */
  readonly host: string;
  readonly port: number;
  /** TLS ClientHellos received so far. */
  tlsAttempts(): number;
  /** Plain-http requests for /v2/ received so far. */
  plainRequests(): number;
  /** Resolves at the next plain-http request for /v2/. */
  nextPlainRequest(): Promise<void>;
  /** Resolves at the next TLS ClientHello. */
  nextHello(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Answers plain http on loopback; a TLS ClientHello (first byte 0x16) is either left waiting
 * forever, as a firewall that drops packets would, or answered as an http server answers it.
 */
async function schemeServer(tls: "hang" | "refuse"): Promise<SchemeServer> {
  const sockets = new Set<Socket>();
  let plain = 0;
  let hellos = 0;
  let waiters: Array<() => void> = [];
  let helloWaiters: Array<() => void> = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let pending = "";
    socket.setEncoding("latin1");
    socket.on("data", (data: string) => {
      pending += data;
      if (pending.startsWith("\x16")) {
        if (pending.length === data.length) {
          hellos++;
          for (const wake of helloWaiters) wake();
          helloWaiters = [];
        }
        if (tls === "refuse") socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
        return;
      }
      if (!pending.includes("\r\n\r\n")) return;
      pending = "";
      plain++;
      for (const wake of waiters) wake();
      waiters = [];
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    host: `127.0.0.1:${address.port}`,
    port: address.port,
    tlsAttempts: () => hellos,
    plainRequests: () => plain,
    nextPlainRequest: () => new Promise<void>((resolve) => waiters.push(resolve)),
    nextHello: () => new Promise<void>((resolve) => helloWaiters.push(resolve)),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A scheme server for the tests of one describe block. */
function useSchemeServer(tls: "hang" | "refuse"): () => SchemeServer {
  return useStarted(
    "scheme server",
    () => schemeServer(tls),
    (s) => s.close(),
  );
}

/** A clock whose sleeps last until the test ends them. */
function heldClock(): Clock & { release(): void; sleeping(): number } {
  let held: Array<() => void> = [];
  return {
    now: () => Date.now(),
    sleep(_ms, options = {}) {
      return new Promise<void>((resolve, reject) => {
        const signal = options.signal;
        if (signal?.aborted) return reject(signal.reason);
        const onAbort = () => reject(signal?.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
        held.push(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    },
    release() {
      const wake = held;
      held = [];
      for (const resolve of wake) resolve();
    },
    sleeping: () => held.length,
  };
}

/** Whether `promise` is still pending after the event loop has had a few turns. */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  return !settled;
}

describe("which scheme a registry that may use plain http is asked first", () => {
  it("is http for a loopback registry named with its port, https otherwise", () => {
    const at = (host: string, scheme: "http" | "https" = "http") =>
      asksHttpFirst(registryAt(host, scheme));
    expect(at("127.0.0.1:5000")).toBe(true);
    expect(at("127.8.9.10:5000")).toBe(true);
    expect(at("localhost:5000")).toBe(true);
    expect(at("registry.localhost:5000")).toBe(true);
    expect(at("[::1]:5000")).toBe(true);
    // Without a port the schemes reach different ports (443 and 80): https comes first.
    expect(at("127.0.0.1")).toBe(false);
    expect(at("localhost")).toBe(false);
    expect(at("127.0.0.1:443")).toBe(false);
    // Not this machine, or not allowed plain http at all.
    expect(at("10.1.2.3:5000")).toBe(false);
    expect(at("192.168.1.1:5000")).toBe(false);
    expect(at("registry.example:5000")).toBe(false);
    expect(at("127.0.0.1:5000", "https")).toBe(false);
  });
});

describe("ping of a registry that may use plain http", () => {
  const transports: Array<ReturnType<typeof createTransport>> = [];
  afterEach(async () => {
    for (const transport of transports.splice(0)) await transport.close();
  });
  function transportWith(clock: Clock) {
    const transport = createTransport({ clock });
    transports.push(transport);
    return transport;
  }

  describe("on loopback, named with its port", () => {
    const server = useSchemeServer("hang");

    it("takes a plain-http answer without trying TLS", async () => {
      const clock = heldClock();
      const before = server().plainRequests();
      // The 300 ms never pass on this clock, and the server never answers TLS.
      await expect(transportWith(clock).ping(registryAt(server().host))).resolves.toMatchObject({
        scheme: "http",
        status: 200,
        origin: `http://${server().host}`,
      });
      expect(server().plainRequests() - before).toBe(1);
      expect(server().tlsAttempts()).toBe(0);
    });
  });

  describe("elsewhere (0.0.0.0 reaches this machine but is not loopback)", () => {
    const server = useSchemeServer("hang");

    it("tries https first, and http only once https had its 300 ms", async () => {
      const clock = heldClock();
      const hello = server().nextHello();
      const ping = transportWith(clock).ping(registryAt(`0.0.0.0:${server().port}`));
      await hello;
      expect(await pending(ping)).toBe(true);
      expect(server().tlsAttempts()).toBe(1);
      expect(server().plainRequests()).toBe(0);
      const asked = server().nextPlainRequest();
      clock.release();
      await asked;
      await expect(ping).resolves.toMatchObject({ scheme: "http", status: 200 });
      expect(server().plainRequests()).toBe(1);
    });
  });

  describe("elsewhere, with https refused", () => {
    const server = useSchemeServer("refuse");

    it("asks over http as soon as https has failed", async () => {
      const before = server().plainRequests();
      await expect(
        transportWith(heldClock()).ping(registryAt(`0.0.0.0:${server().port}`)),
      ).resolves.toMatchObject({ scheme: "http", status: 200 });
      expect(server().plainRequests() - before).toBe(1);
      expect(server().tlsAttempts()).toBeGreaterThanOrEqual(1);
    });
  });
});
