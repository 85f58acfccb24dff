import { Agent, createServer, request } from "node:http";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { createCertificate } from "@hoist/harness";
import { describe, expect, it } from "vitest";
import { createRegistry, type RegistryLogEntry, startRegistry } from "../src/index.js";
import { client, raw } from "./support/http.js";

function keepAliveGet(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    })
      .on("error", reject)
      .end();
  });
}

describe("startRegistry", () => {
  it("listens on loopback and reports its address", async () => {
    const registry = await startRegistry();
    try {
      expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(registry.url).toBe(`http://${registry.host}`);
      expect(registry.port).toBeGreaterThan(0);
      expect((await raw(`${registry.url}/v2/`)).status).toBe(200);
    } finally {
      await registry.close();
    }
  });

  it("closes promptly even with keep-alive connections open, and only once", async () => {
    const registry = await startRegistry();
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
    expect(await keepAliveGet(`${registry.url}/v2/`, agent)).toBe(200);
    const sockets = Object.values(agent.freeSockets).flat();
    expect(sockets.length).toBe(1);
    const socketClosed = new Promise<string>((resolve) =>
      sockets[0]?.once("close", () => resolve("closed")),
    );
    const started = Date.now();
    await Promise.all([registry.close(), registry.close()]);
    expect(Date.now() - started).toBeLessThan(1000);
    const lingered = new Promise<string>((resolve) =>
      setTimeout(() => resolve("still open"), 1000).unref(),
    );
    expect(await Promise.race([socketClosed, lingered])).toBe("closed");
    await expect(raw(`${registry.url}/v2/`)).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
  });

  it("aborts requests in flight when closing", async () => {
    const registry = await startRegistry();
    const location = await client(registry.url).startUpload("slow/upload");
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* never() {
      yield Buffer.from("a little");
      await stalled;
    }
    const upload = raw(location, { method: "PATCH", body: never(), chunked: true }).catch(
      (e: Error) => e,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await registry.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await upload).toBeInstanceOf(Error);
    release();
  });

  it("closes when its signal aborts, and refuses to start with an aborted one", async () => {
    const controller = new AbortController();
    const registry = await startRegistry({ signal: controller.signal });
    controller.abort();
    await registry.close();
    await expect(raw(`${registry.url}/v2/`)).rejects.toThrow(/ECONNREFUSED/);
    await expect(startRegistry({ signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it("reports a port in use as HOIST_REGISTRY_LISTEN_FAILED", async () => {
    const first = await startRegistry();
    try {
      const attempt = startRegistry({ port: first.port });
      await expect(attempt).rejects.toMatchObject({ code: "HOIST_REGISTRY_LISTEN_FAILED" });
      await expect(attempt).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  it.each([
    [{ port: -1 }, /port/],
    [{ port: 1.5 }, /port/],
    [{ limits: { manifestBytes: 0 } }, /limits.manifestBytes/],
    [{ limits: { maxPageSize: 2.5 } }, /limits.maxPageSize/],
    [{ referrers: "yes" }, /referrers must be true or false/],
    [{ validation: { blobReferences: 1 } }, /validation.blobReferences/],
    [{ logger: "console" }, /logger must be a function/],
    [{ storage: "/tmp/dir" }, /storage must be a RegistryStorage/],
  ])("refuses the options %j", async (options, message) => {
    const attempt = startRegistry(options as never);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toMatchObject({ code: "HOIST_REGISTRY_INVALID_OPTION" });
  });

  it("keeps a bounded request log and tells the logger about each request", async () => {
    const entries: RegistryLogEntry[] = [];
    const registry = await startRegistry({
      limits: { requestLogEntries: 2 },
      logger: (e) => entries.push(e),
    });
    try {
      await raw(`${registry.url}/v2/`);
      await raw(`${registry.url}/v2/_catalog?n=5`);
      await raw(`${registry.url}/v2/nope/tags/list`, { method: "GET" });
      const log = registry.requests();
      expect(log.map((r) => [r.method, r.url, r.status, r.route])).toEqual([
        ["GET", "/v2/_catalog?n=5", 200, "catalog"],
        ["GET", "/v2/nope/tags/list", 404, "tags"],
      ]);
      expect(log[1]?.repository).toBe("nope");
      expect(log[1]?.path).toBe("/v2/nope/tags/list");
      expect(entries.map((e) => e.message)).toEqual([
        "GET /v2/ 200",
        "GET /v2/_catalog?n=5 200",
        "GET /v2/nope/tags/list 404",
      ]);
      registry.clearRequests();
      expect(registry.requests()).toEqual([]);
    } finally {
      await registry.close();
    }
  });
});

describe("createRegistry", () => {
  it("serves through a node:http server of your own", async () => {
    const registry = createRegistry();
    const server = createServer(registry.handle);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const api = client(base);
      await api.pushImage("own/server", "v1");
      expect((await api.call("/v2/own/server/tags/list")).json()).toEqual({
        name: "own/server",
        tags: ["v1"],
      });
      expect(registry.requests().some((r) => r.method === "PUT" && r.status === 201)).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("serves HTTPS, through startRegistry's tls option and a node:https server", async () => {
    const certificate = createCertificate({ commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"] });
    const tls = { key: certificate.keyPem, cert: certificate.certificatePem };
    const get = (url: string) =>
      new Promise<{ status: number; challenge: string }>((resolve, reject) => {
        httpsRequest(url, { ca: tls.cert, agent: false }, (res) => {
          res.resume();
          resolve({
            status: res.statusCode ?? 0,
            challenge: String(res.headers["www-authenticate"]),
          });
        })
          .on("error", reject)
          .end();
      });
    try {
      const started = await startRegistry({ tls });
      try {
        expect(started.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        expect((await get(`${started.url}/v2/`)).status).toBe(200);
      } finally {
        await started.close();
      }
      const registry = createRegistry({ auth: { type: "bearer", users: { u: "p" } } });
      const server = createHttpsServer(tls, registry.handle);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        // The token realm follows the scheme the client used.
        expect((await get(`${base}/v2/`)).challenge).toBe(
          `Bearer realm="${base}/token",service="hoist-registry"`,
        );
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    } finally {
      certificate.remove();
    }
  });
});
