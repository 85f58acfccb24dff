import { Readable } from "node:stream";
import {
  manualClock,
  type RunningFaultProxy,
  startFaultProxy,
  useDockerRegistry,
  useStarted,
} from "@hoist/harness";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createTransport, RegistryError, type Session, TransportError } from "../src/index.js";
import { caught, pushBlob, registryAt } from "./helpers.js";

const BLOB = new TextEncoder().encode("bytes behind a flaky proxy");

describe("retries through the fault-injecting proxy in front of docker-registry", () => {
  const registry = useDockerRegistry();
  const proxy = useStarted<RunningFaultProxy>(
    "fault proxy",
    () => startFaultProxy({ target: registry().url, seed: 7 }),
    (p) => p.stop(),
  );
  const clock = manualClock();
  const transport = createTransport({ clock, retry: { random: () => 0.5 } });
  afterAll(() => transport.close());
  let session: Session;
  let digest: string;
  const blobPath = () => `/v2/faults/blob/blobs/${digest}`;

  beforeEach(async () => {
    proxy().clearRules();
    session ??= await transport.session({ registry: registryAt(proxy().host) });
    digest ??= await pushBlob(session, "faults/blob", BLOB);
    proxy().clearRequests();
    clock.sleeps.length = 0; // the ping's https-then-http wait is not part of these tests
  });

  it("rides out a burst of 503s with exponential backoff", async () => {
    proxy().setRules([{ path: blobPath(), times: 2, fault: { kind: "status", status: 503 } }]);
    const res = await session.request({ method: "GET", path: blobPath() });
    expect(await res.bytes()).toEqual(BLOB);
    expect(
      proxy()
        .requests()
        .map((r) => r.fault ?? r.status),
    ).toEqual(["status", "status", 200]);
    expect(clock.sleeps).toEqual([200, 600]); // 200 ms × 3ⁿ, jitter centred by random() = 0.5
  });

  it("waits as long as Retry-After says on 429, in seconds or as a date", async () => {
    const date = new Date(clock.now() + 4000).toUTCString();
    proxy().setRules([
      {
        path: blobPath(),
        times: 1,
        fault: { kind: "status", status: 429, headers: { "retry-after": "2" } },
      },
      {
        path: blobPath(),
        times: 1,
        fault: { kind: "status", status: 429, headers: { "retry-after": date } },
      },
    ]);
    const res = await session.request({ method: "GET", path: blobPath() });
    expect(await res.bytes()).toEqual(BLOB);
    expect(clock.sleeps[0]).toBe(2000);
    expect(clock.sleeps[1]).toBeGreaterThan(1000); // the date was 4 s ahead before the first 2 s passed
    expect(clock.sleeps[1]).toBeLessThanOrEqual(2000);
  });

  it("surfaces a Retry-After beyond the cap at once instead of stalling", async () => {
    proxy().setRules([
      {
        path: blobPath(),
        fault: { kind: "status", status: 429, headers: { "retry-after": "3600" } },
      },
    ]);
    const error = await caught<RegistryError>(() =>
      session.request({ method: "GET", path: blobPath() }),
    );
    expect(RegistryError.is(error)).toBe(true);
    expect(error).toMatchObject({ status: 429, isTemporary: true, retryAfterMs: 3_600_000 });
    expect(proxy().requests()).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it("retries connection resets before the response", async () => {
    proxy().setRules([{ path: blobPath(), times: 2, fault: { kind: "reset" } }]);
    const res = await session.request({ method: "GET", path: blobPath() });
    expect(await res.bytes()).toEqual(BLOB);
    expect(proxy().requests()).toHaveLength(3);
  });

  it("reports a reset in the middle of a body as a typed network error", async () => {
    proxy().setRules([{ path: blobPath(), fault: { kind: "reset-body", afterBytes: 5 } }]);
    const res = await session.request({ method: "GET", path: blobPath() });
    const error = await caught(() => res.bytes());
    expect(TransportError.is(error)).toBe(true);
    expect(error.code).toBe("HOIST_TRANSPORT_NETWORK");
    expect(error.operation).toBe("read body");
  });

  it("reports a truncated body as a typed network error", async () => {
    proxy().setRules([{ path: blobPath(), fault: { kind: "truncate", afterBytes: 3 } }]);
    const res = await session.request({ method: "GET", path: blobPath() });
    const error = await caught(() => res.text());
    expect(error.code).toBe("HOIST_TRANSPORT_NETWORK");
  });

  it("does not repeat a POST that is not marked idempotent, nor a one-shot stream", async () => {
    proxy().setRules([{ method: ["POST", "PUT"], fault: { kind: "status", status: 503 } }]);
    const post = await caught<RegistryError>(() =>
      session.request({ method: "POST", path: "/v2/faults/blob/blobs/uploads/" }),
    );
    expect(post.status).toBe(503);
    expect(post.isTemporary).toBe(true);
    const put = await caught<RegistryError>(() =>
      session.request({
        method: "PUT",
        path: "/v2/faults/blob/blobs/uploads/x?digest=sha256:00",
        body: Readable.from([Buffer.from("one shot")]),
      }),
    );
    expect(put.status).toBe(503);
    expect(proxy().requests()).toHaveLength(2);
  });

  it("retries a body function on every attempt", async () => {
    proxy().setRules([{ method: "PATCH", times: 1, fault: { kind: "status", status: 502 } }]);
    const start = await session.request({
      method: "POST",
      path: "/v2/faults/factory/blobs/uploads/",
      idempotent: true,
      expectStatus: [202],
    });
    await start.discard();
    let opened = 0;
    const patched = await session.request({
      method: "PATCH",
      url: new URL(start.headers.get("location") ?? "", start.url),
      body: () => {
        opened++;
        return Readable.from([Buffer.from(BLOB)]);
      },
      idempotent: true,
      expectStatus: [202],
    });
    await patched.discard();
    expect(opened).toBe(2);
    expect(patched.headers.get("range")).toBe(`0-${BLOB.length - 1}`);
  });
});

describe("a persistent fault fails in bounded real time", () => {
  const registry = useDockerRegistry();
  const proxy = useStarted<RunningFaultProxy>(
    "fault proxy",
    () => startFaultProxy({ target: registry().url }),
    (p) => p.stop(),
  );

  it("gives up on endless 503s after the policy's attempts, saying so", async () => {
    const transport = createTransport({ retry: { attempts: 4, initialDelayMs: 50, factor: 2 } });
    try {
      const session = await transport.session({ registry: registryAt(proxy().host) });
      proxy().setRules([
        {
          path: /^\/v2\/stuck\//,
          fault: { kind: "status", status: 503, body: "upstream overloaded" },
        },
      ]);
      const started = Date.now();
      const error = await caught<RegistryError>(() =>
        session.request({ method: "GET", path: "/v2/stuck/tags/list" }),
      );
      const elapsed = Date.now() - started;
      expect(error.status).toBe(503);
      expect(error.attempts).toBe(4);
      expect(error.message).toMatch(
        /^GET http:\/\/127\.0\.0\.1:\d+\/v2\/stuck\/tags\/list: unexpected status code 503 Service Unavailable: upstream overloaded \(gave up after 4 attempts over \d\.\d s\)$/,
      );
      expect(elapsed).toBeLessThan(3000); // 50 + 100 + 200 ms of backoff, ±20%
      expect(
        proxy()
          .requests()
          .filter((r) => r.path.startsWith("/v2/stuck/")),
      ).toHaveLength(4);
    } finally {
      await transport.close();
    }
  });

  it("gives up on a registry that never answers, with a timeout error", async () => {
    const transport = createTransport({
      headersTimeoutMs: 300,
      retry: { attempts: 2, initialDelayMs: 10 },
    });
    try {
      const session = await transport.session({ registry: registryAt(proxy().host) });
      proxy().setRules([{ path: /^\/v2\/silent\//, fault: { kind: "stall" } }]);
      const started = Date.now();
      const error = await caught(() =>
        session.request({ method: "GET", path: "/v2/silent/tags/list" }),
      );
      expect(error.code).toBe("HOIST_TRANSPORT_TIMEOUT");
      expect(error.message).toMatch(
        /timed out waiting for the response \(gave up after 2 attempts/,
      );
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await transport.close();
    }
  });

  it("stops waiting when the caller aborts", async () => {
    const transport = createTransport();
    try {
      const session = await transport.session({ registry: registryAt(proxy().host) });
      proxy().setRules([{ path: /^\/v2\/abort\//, fault: { kind: "stall" } }]);
      const error = await caught(() =>
        session.request({
          method: "GET",
          path: "/v2/abort/tags/list",
          signal: AbortSignal.timeout(200),
        }),
      );
      expect(error.code).toBe("HOIST_TRANSPORT_ABORTED");
    } finally {
      await transport.close();
    }
  });

  it("stops a request when the signal it shares with earlier ones aborts, or the transport closes", async () => {
    // Requests with one caller's signal share what they listen to: a signal that has served
    // finished requests must still stop the next one, and so must closing the transport.
    proxy().setRules([{ path: /^\/v2\/shared\//, fault: { kind: "stall" } }]);
    for (const stop of ["abort", "close"] as const) {
      const transport = createTransport();
      const controller = new AbortController();
      try {
        const session = await transport.session({ registry: registryAt(proxy().host) });
        for (let i = 0; i < 3; i++) {
          const ok = await session.request({
            method: "HEAD",
            path: "/v2/",
            signal: controller.signal,
          });
          expect(ok.status).toBe(200);
        }
        const stalled = caught(() =>
          session.request({
            method: "GET",
            path: "/v2/shared/tags/list",
            signal: controller.signal,
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (stop === "abort") controller.abort(new Error("the user gave up"));
        else await transport.close();
        const error = await stalled;
        expect(error.code).toBe(
          stop === "abort" ? "HOIST_TRANSPORT_ABORTED" : "HOIST_TRANSPORT_CLOSED",
        );
      } finally {
        await transport.close();
      }
    }
  });
});
