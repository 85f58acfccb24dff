import { Readable } from "node:stream";
import { manualClock, useDockerRegistry } from "@hoist/harness";
import { afterAll, describe, expect, it } from "vitest";
import { createTransport, nextLink, RegistryError, TransportError } from "../src/index.js";
import { caught, debugLog, digestOf, pushBlob, registryAt } from "./helpers.js";

describe("an anonymous registry (docker-registry, no auth)", () => {
  const registry = useDockerRegistry();
  const log = debugLog();
  const transport = createTransport({
    userAgent: "transport-tests/1",
    debug: log.debug,
    clock: manualClock(),
  });
  afterAll(() => transport.close());

  it("pings: plain http answers on loopback", async () => {
    const result = await transport.ping(registryAt(registry().host));
    expect(result).toMatchObject({
      scheme: "http",
      status: 200,
      origin: registry().url,
      challenge: undefined,
    });
    // Which scheme goes first, and whether the other is asked at all, is ping-schemes.test.ts's.
    expect(log.text()).toContain(`--> GET http://${registry().host}/v2/`);
  });

  it("refuses plain http for a registry that must use https", async () => {
    const error = await caught(() => transport.ping(registryAt(registry().host, "https")));
    expect(TransportError.is(error)).toBe(true);
    expect(error.code).toBe("HOIST_TRANSPORT_TLS");
    expect(error.message).toMatch(/may not speak TLS/);
  });

  it("uploads, checks and downloads a blob", async () => {
    const session = await transport.session({ registry: registryAt(registry().host) });
    const bytes = new TextEncoder().encode("hello from hoist");
    const digest = await pushBlob(session, "anon/blobs", bytes);
    expect(digest).toBe(digestOf(bytes));

    const head = await session.request({ method: "HEAD", path: `/v2/anon/blobs/blobs/${digest}` });
    expect(head.status).toBe(200);
    expect(head.headers.get("docker-content-digest")).toBe(digest);
    expect(head.headers.get("content-length")).toBe(String(bytes.length));

    const get = await session.request({ method: "GET", path: `/v2/anon/blobs/blobs/${digest}` });
    expect(new TextDecoder().decode(await get.bytes())).toBe("hello from hoist");
    expect(await registry().waitForLog("hoist/0.1.0 transport-tests/1")).toContain(
      "hoist/0.1.0 transport-tests/1",
    );
  });

  it("turns a missing blob into a RegistryError with the registry's code", async () => {
    const session = await transport.session({ registry: registryAt(registry().host) });
    const missing = `sha256:${"0".repeat(64)}`;
    const error = await caught<RegistryError>(() =>
      session.request({ method: "GET", path: `/v2/anon/blobs/blobs/${missing}` }),
    );
    expect(RegistryError.is(error)).toBe(true);
    expect(error).toMatchObject({
      status: 404,
      method: "GET",
      isTemporary: false,
      code: "HOIST_TRANSPORT_REGISTRY_ERROR",
    });
    expect(error.errors[0]?.code).toBe("BLOB_UNKNOWN");
    expect(error.hasCode("BLOB_UNKNOWN")).toBe(true);
    expect(error.message).toBe(
      `GET ${registry().url}/v2/anon/blobs/blobs/${missing}: BLOB_UNKNOWN: blob unknown to registry; ${missing}`,
    );

    const head = await caught<RegistryError>(() =>
      session.request({ method: "HEAD", path: `/v2/anon/blobs/blobs/${missing}` }),
    );
    expect(head.message).toMatch(
      /404 Not Found \(HEAD responses have no body, use GET for details\)$/,
    );
    const ok = await session.request({
      method: "HEAD",
      path: `/v2/anon/blobs/blobs/${missing}`,
      expectStatus: [200, 404],
    });
    expect(ok.status).toBe(404);
  });

  it("follows Link pagination of the catalog", async () => {
    const session = await transport.session({ registry: registryAt(registry().host) });
    for (const name of ["anon/a", "anon/b", "anon/c"])
      await pushBlob(session, name, new TextEncoder().encode(name));
    const seen: string[] = [];
    let url: URL | undefined = new URL(`${session.origin}/v2/_catalog?n=2`);
    while (url) {
      const page = await session.request({ method: "GET", url });
      const body = (await page.json()) as { repositories: string[] };
      seen.push(...body.repositories);
      url = nextLink(page.headers, page.url);
    }
    expect(seen).toEqual(expect.arrayContaining(["anon/a", "anon/b", "anon/c"]));
  });

  it("redacts upload state in the debug log", async () => {
    const session = await transport.session({ registry: registryAt(registry().host) });
    await pushBlob(session, "anon/redact", new TextEncoder().encode("x"));
    expect(log.text()).toMatch(/_state=REDACTED/);
    expect(log.text()).not.toMatch(/_state=(?!REDACTED)/);
  });

  it("sends Content-Length for a streamed body when told its length", async () => {
    const session = await transport.session({ registry: registryAt(registry().host) });
    const bytes = new TextEncoder().encode("streamed with a length");
    const started = await session.request({
      method: "POST",
      path: "/v2/anon/length/blobs/uploads/",
      expectStatus: [202],
    });
    await started.discard();
    const url = new URL(started.headers.get("location") ?? "", started.url);
    url.searchParams.set("digest", digestOf(bytes));
    const log = debugLog();
    const logged = createTransport({ debug: log.debug });
    try {
      const put = await (await logged.session({ registry: registryAt(registry().host) })).request({
        method: "PUT",
        url,
        body: () => Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]),
        contentLength: bytes.length,
        expectStatus: [201],
      });
      await put.discard();
    } finally {
      await logged.close();
    }
    expect(log.text()).toContain(`content-length: ${bytes.length}`);
    expect(log.text()).not.toContain("transfer-encoding");
  });

  it("rejects bad request options with typed errors", async () => {
    const session = await transport.session({ registry: registryAt(registry().host) });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ method: "GET" }, /exactly one of `path`/],
      [{ method: "GET", path: "v2/" }, /must start with a single "\/"/],
      [
        { method: "GET", path: "/v2/", headers: { Authorization: "Basic x" } },
        /Authorization header is set by the transport/,
      ],
      [{ method: "G E T", path: "/v2/" }, /HTTP method/],
      [{ method: "GET", url: "not a url" }, /not an absolute URL/],
      [{ method: "PUT", path: "/v2/", body: "abc", contentLength: 2 }, /the body is 3 bytes/],
      [{ method: "PUT", path: "/v2/", contentLength: 5 }, /has no body/],
      [{ method: "PUT", path: "/v2/", body: () => "x", contentLength: -1 }, /whole number/],
    ];
    for (const [options, message] of cases) {
      const error = await caught(() => session.request(options as never));
      expect(error.code).toBe("HOIST_TRANSPORT_INVALID_OPTIONS");
      expect(error.message).toMatch(message);
    }
    await expect(
      transport.session({ registry: { host: "a/b", scheme: "http" } as never }),
    ).rejects.toMatchObject({
      code: "HOIST_TRANSPORT_INVALID_OPTIONS",
    });
  });
  it("gives an answer without a body an empty stream when asked, and frees its host slot at once", async () => {
    // One slot per host: an answer whose slot waited for a stream nobody reads would hang the next.
    const narrow = createTransport({ hostLimits: { maxConcurrent: 1 } });
    try {
      const session = await narrow.session({ registry: registryAt(registry().host) });
      const digest = await pushBlob(session, "anon/empty", new TextEncoder().encode("empty"));
      const path = `/v2/anon/empty/blobs/${digest}`;
      for (let i = 0; i < 3; i++) {
        const head = await session.request({ method: "HEAD", path });
        expect(head.status).toBe(200);
        expect(head.headers.get("content-length")).toBe("5");
      }
      const head = await session.request({ method: "HEAD", path });
      expect(head.body).toBe(head.body);
      const chunks: unknown[] = [];
      for await (const chunk of head.body) chunks.push(chunk);
      expect(chunks).toEqual([]);
      expect(await head.text()).toBe("");
      await head.discard();
      // An upload session's answer (202, Content-Length 0), discarded without a stream.
      const started = await session.request({
        method: "POST",
        path: "/v2/anon/empty/blobs/uploads/",
      });
      expect(started.status).toBe(202);
      await started.discard();
      const again = await session.request({ method: "GET", path });
      expect(await again.text()).toBe("empty");
    } finally {
      await narrow.close();
    }
  });

  it("keeps 64 requests in flight, with or without a caller's signal, without a listener-leak warning", async () => {
    // Node warns once more than 10 listeners wait on one AbortSignal. Every request in flight or
    // queued for a connection listens to the transport's close, and to the caller's signal if one
    // is passed; neither is a leak, and a library user should not see the warning.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on("warning", onWarning);
    const busy = createTransport({ hostLimits: { maxConcurrent: 8 } });
    try {
      const session = await busy.session({ registry: registryAt(registry().host) });
      const digest = await pushBlob(session, "anon/many", new TextEncoder().encode("many"));
      const path = `/v2/anon/many/blobs/${digest}`;
      const heads = (signal?: AbortSignal) =>
        Promise.all(
          Array.from({ length: 64 }, async () => {
            const response = await session.request({ method: "HEAD", path, signal });
            return response.status;
          }),
        );
      expect(new Set(await heads())).toEqual(new Set([200]));
      expect(new Set(await heads(new AbortController().signal))).toEqual(new Set([200]));
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
      await busy.close();
    }
    expect(warnings.filter((warning) => warning.includes("MaxListeners"))).toEqual([]);
  });
});
