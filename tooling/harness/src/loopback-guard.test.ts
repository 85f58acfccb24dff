import { createServer } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { guardLoopbackOnly, isLoopbackHost, type LoopbackGuard } from "./loopback-guard.js";

let guard: LoopbackGuard | undefined;
afterEach(() => {
  guard?.restore();
  guard = undefined;
});

describe("guardLoopbackOnly", () => {
  it("refuses fetch and https requests to other hosts at once, and records them", async () => {
    guard = guardLoopbackOnly();
    const started = Date.now();
    await expect(fetch("https://hoist-guard-test.invalid/")).rejects.toThrow();
    const error = await new Promise<Error>((resolve) => {
      const req = httpsRequest("https://192.0.2.1/latest/meta-data", () =>
        resolve(new Error("answered")),
      );
      req.on("error", resolve);
      req.end();
    });
    expect(error.message).toContain("refused a connection to 192.0.2.1:443");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(guard.refused).toEqual(["hoist-guard-test.invalid:443", "192.0.2.1:443"]);
  });

  it("lets loopback through", async () => {
    guard = guardLoopbackOnly();
    const server = createServer((_, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("ok");
      expect(await (await fetch(`http://localhost:${port}/`)).text()).toBe("ok");
    } finally {
      server.close();
    }
    expect(guard.refused).toEqual([]);
  });

  it.each([
    ["127.0.0.1", true],
    ["127.5.6.7", true],
    ["::1", true],
    ["localhost", true],
    ["api.localhost", true],
    ["10.0.0.1", false],
    ["169.254.169.254", false],
    ["metadata.google.internal", false],
    ["127.0.0.1.example.com", false],
  ])("isLoopbackHost(%j) is %j", (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });
});
