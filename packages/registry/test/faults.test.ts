import { request } from "node:http";
import { describe, expect, it } from "vitest";
import {
  createRegistry,
  type FaultRule,
  type RunningRegistry,
  startRegistry,
} from "../src/index.js";
import { client, raw, sha256 } from "./support/http.js";

async function withRegistry<T>(
  rules: FaultRule[],
  seed: number | undefined,
  body: (r: RunningRegistry) => Promise<T>,
) {
  const registry = await startRegistry({ faults: { rules, seed } });
  try {
    return await body(registry);
  } finally {
    await registry.close();
  }
}

/** A GET that reports what arrived before the connection ended, instead of failing. */
function partialGet(
  url: string,
): Promise<{ status?: number; headers?: Record<string, unknown>; body: Buffer; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const req = request(url, { agent: false }, (res) => {
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("aborted", () => undefined);
      res.on("error", (e) =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks),
          error: e.message,
        }),
      );
    });
    req.on("error", (e) => resolve({ body: Buffer.concat(chunks), error: e.message }));
    req.end();
  });
}

describe("fault injection", () => {
  it("answers 429 TOOMANYREQUESTS with Retry-After a given number of times, and logs it", async () => {
    await withRegistry(
      [{ name: "throttle", route: "ping", status: 429, retryAfter: 3, times: 2 }],
      undefined,
      async (r) => {
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await raw(`${r.url}/v2/`);
          statuses.push(res.status);
          if (res.status === 429) {
            expect(res.codes()).toEqual(["TOOMANYREQUESTS"]);
            expect(res.headers["retry-after"]).toBe("3");
          }
        }
        expect(statuses).toEqual([429, 429, 200]);
        expect(r.requests().map((x) => x.fault)).toEqual(["throttle", "throttle", undefined]);
      },
    );
  });

  it("is deterministic for a seed", async () => {
    const rules: FaultRule[] = [{ route: "ping", probability: 0.5, status: 503 }];
    const pattern = (seed: number) =>
      withRegistry(rules, seed, async (r) => {
        const out: number[] = [];
        for (let i = 0; i < 32; i++) out.push((await raw(`${r.url}/v2/`)).status);
        return out.join(",");
      });
    const first = await pattern(7);
    expect(first).toContain("503");
    expect(first).toContain("200");
    expect(await pattern(7)).toBe(first);
    expect(await pattern(8)).not.toBe(first);
  });

  it("selects by method, route, repository and path, and skips the first matches", async () => {
    const rules: FaultRule[] = [
      { name: "put-only", method: "PUT", repository: "flaky/repo", status: 500, code: "UNKNOWN" },
      { name: "by-path", path: /\/tags\/list\?n=1$/, status: 502 },
      { name: "second-catalog", route: "catalog", skip: 1, status: 503, times: 1 },
    ];
    await withRegistry(rules, undefined, async (r) => {
      const api = client(r.url);
      const image = await api.pushImage("solid/repo", "v1");
      expect(
        (
          await api.pushManifest(
            "flaky/repo",
            "v1",
            image.manifest,
            "application/vnd.oci.image.manifest.v1+json",
          )
        ).status,
      ).toBe(500);
      expect((await api.call("/v2/solid/repo/tags/list?n=1")).status).toBe(502);
      expect((await api.call("/v2/solid/repo/tags/list?n=2")).status).toBe(200);
      expect((await api.call("/v2/_catalog")).status).toBe(200);
      expect((await api.call("/v2/_catalog")).status).toBe(503);
      expect((await api.call("/v2/_catalog")).status).toBe(200);
    });
  });

  it("delays answers by latencyMs", async () => {
    await withRegistry([{ route: "ping", latencyMs: 150 }], undefined, async (r) => {
      const started = Date.now();
      expect((await raw(`${r.url}/v2/`)).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });
  });

  it("cuts connections before the response or after the headers", async () => {
    await withRegistry(
      [
        { route: "ping", reset: "before-response" },
        { route: "catalog", reset: "after-headers" },
      ],
      undefined,
      async (r) => {
        const before = await partialGet(`${r.url}/v2/`);
        expect(before.status).toBeUndefined();
        expect(before.error).toMatch(/socket hang up|ECONNRESET/);
        const after = await partialGet(`${r.url}/v2/_catalog`);
        expect(after.status).toBe(200);
        expect(after.body.length).toBe(0);
        expect(after.error).toMatch(/aborted/);
        expect(r.requests().map((x) => x.status)).toEqual([0, 200]);
      },
    );
  });

  it("truncates a body after some bytes, keeping the full Content-Length", async () => {
    await withRegistry(
      [{ route: "blob", method: "GET", truncateAfter: 5 }],
      undefined,
      async (r) => {
        const { digest } = await client(r.url).pushBlob("cut/repo", "0123456789abcdef");
        const res = await partialGet(`${r.url}/v2/cut/repo/blobs/${digest}`);
        expect(res.status).toBe(200);
        expect(res.headers?.["content-length"]).toBe("16");
        expect(res.body.toString()).toBe("01234");
        expect(res.error).toMatch(/aborted/);
      },
    );
  });

  it("adds headers to real answers", async () => {
    await withRegistry(
      [{ route: "ping", headers: { Warning: '299 - "deprecated"' } }],
      undefined,
      async (r) => {
        const res = await raw(`${r.url}/v2/`);
        expect(res.status).toBe(200);
        expect(res.headers.warning).toBe('299 - "deprecated"');
      },
    );
  });

  it("serves custom lies built from the real answer", async () => {
    const rules: FaultRule[] = [
      {
        name: "wrong-bytes",
        route: "blob",
        method: "GET",
        respond: async ({ forward }) => {
          const real = await forward();
          const lie = Buffer.from(real.body.toString().toUpperCase());
          return { ...real, headers: { ...real.headers, "Content-Length": lie.length }, body: lie };
        },
      },
      {
        name: "evil-link",
        route: "tags",
        respond: async ({ forward }) => {
          const real = await forward();
          return {
            ...real,
            headers: {
              ...real.headers,
              Link: '<http://evil.example/v2/x/tags/list?n=1>; rel="next"',
            },
          };
        },
      },
      { name: "pass", route: "catalog", respond: () => undefined },
    ];
    await withRegistry(rules, undefined, async (r) => {
      const api = client(r.url);
      const { digest } = await api.pushBlob("lies/repo", "honest bytes");
      const res = await api.call(`/v2/lies/repo/blobs/${digest}`);
      expect(res.text).toBe("HONEST BYTES");
      expect(res.headers["docker-content-digest"]).toBe(digest);
      expect(sha256(res.body)).not.toBe(digest);
      await api.pushImage("lies/repo", "v1");
      const tags = await api.call("/v2/lies/repo/tags/list");
      expect(tags.json()).toEqual({ name: "lies/repo", tags: ["v1"] });
      expect(tags.headers.link).toBe('<http://evil.example/v2/x/tags/list?n=1>; rel="next"');
      expect((await api.call("/v2/_catalog")).status).toBe(200);
      expect(r.requests().find((x) => x.route === "catalog")?.fault).toBe("pass");
    });
  });

  it("lets a hook draw from the seeded generator", async () => {
    const draws = (seed: number) =>
      withRegistry(
        [
          {
            route: "ping",
            respond: ({ random }) => ({ status: 200, headers: {}, body: String(random()) }),
          },
        ],
        seed,
        async (r) => [(await raw(`${r.url}/v2/`)).text, (await raw(`${r.url}/v2/`)).text],
      );
    expect(await draws(3)).toEqual(await draws(3));
  });

  it("applies to the token endpoint too", async () => {
    const registry = await startRegistry({
      auth: { type: "bearer", users: { u: "p" } },
      faults: { rules: [{ route: "token", status: 503, times: 1 }] },
    });
    try {
      expect((await raw(`${registry.url}/token?scope=repository:a:pull`)).status).toBe(503);
      expect((await raw(`${registry.url}/token?scope=repository:a:pull`)).status).toBe(200);
    } finally {
      await registry.close();
    }
  });

  it.each([
    [{ probability: 2 }, /probability/],
    [{ latencyMs: -1 }, /latencyMs/],
    [{ status: 42 }, /status/],
    [{ status: 500, reset: "before-response" }, /only one/],
    [{ reset: "sideways" }, /reset/],
  ])("refuses the rule %j", (rule, message) => {
    const attempt = () => createRegistry({ faults: { rules: [rule as FaultRule] } });
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(expect.objectContaining({ code: "HOIST_REGISTRY_INVALID_OPTION" }));
  });
});
