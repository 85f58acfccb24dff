import { describe, expect, it } from "vitest";
import { useTokenAuthRegistry } from "./auth-registries.js";
import { startFaultProxy } from "./fault-proxy.js";
import { plainGet } from "./http-get.js";

describe("token server and registry", () => {
  const env = useTokenAuthRegistry({
    users: { alice: { password: "pw", access: [{ name: "alice/*", actions: ["pull"] }] } },
  });

  it("issues tokens the real registry accepts, granting only what the rules allow", async () => {
    const basic = `Basic ${Buffer.from("alice:pw").toString("base64")}`;
    const tokenUrl = `${env().tokenServer.realm}?service=hoist-registry&scope=repository:alice/app:pull,push`;
    const answer = await plainGet(tokenUrl, { authorization: basic });
    expect(answer.status).toBe(200);
    const { token, access_token, expires_in } = JSON.parse(answer.body);
    expect(token).toBe(access_token);
    expect(expires_in).toBe(300);
    expect(env().tokenServer.verify(token)).toMatchObject({
      sub: "alice",
      access: [{ name: "alice/app", actions: ["pull"] }],
    });

    const res = await plainGet(`${env().registry.url}/v2/alice/app/tags/list`, {
      authorization: `Bearer ${token}`,
    });
    expect(res.status).toBe(404); // authorised; the repository just does not exist
    const denied = await plainGet(`${env().registry.url}/v2/bob/app/tags/list`, {
      authorization: `Bearer ${token}`,
    });
    expect(denied.status).toBe(401);
    expect(String(denied.headers["www-authenticate"])).toContain('error="insufficient_scope"');

    const wrong = await plainGet(tokenUrl, {
      authorization: `Basic ${Buffer.from("alice:no").toString("base64")}`,
    });
    expect(wrong.status).toBe(401);
    expect(
      env()
        .tokenServer.requests()
        .map((r) => [r.grantType, r.status]),
    ).toEqual([
      ["basic", 200],
      ["basic", 401],
    ]);
  });

  it("fronts the registry with a fault proxy that counts its budget", async () => {
    const proxy = await startFaultProxy({
      target: env().registry.url,
      rules: [{ path: "/v2/", after: 1, times: 1, fault: { kind: "status", status: 503 } }],
    });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await plainGet(`${proxy.url}/v2/`)).status);
      expect(statuses).toEqual([401, 503, 401]);
      expect(proxy.requests().map((r) => r.fault)).toEqual([undefined, "status", undefined]);
    } finally {
      await proxy.stop();
    }
  });

  it("loses an answer after the origin has acted on the request", async () => {
    const proxy = await startFaultProxy({
      target: env().registry.url,
      rules: [{ path: "/v2/", times: 1, fault: { kind: "lose-response" } }],
    });
    try {
      await expect(plainGet(`${proxy.url}/v2/`)).rejects.toThrow(/ECONNRESET|socket hang up/);
      expect(await env().registry.waitForLog('"GET /v2/ HTTP/1.1" 401')).toBeTruthy();
      expect((await plainGet(`${proxy.url}/v2/`)).status).toBe(401);
    } finally {
      await proxy.stop();
    }
  });

  it("rewrites request and response headers on the way through", async () => {
    const proxy = await startFaultProxy({
      target: env().registry.url,
      rules: [
        {
          path: "/v2/",
          fault: {
            kind: "rewrite",
            requestHeaders: (headers) => ({ ...headers, "x-dropped": undefined }),
            response: ({ status, headers }) => ({
              status: status === 401 ? 299 : status,
              headers: { ...headers, "www-authenticate": undefined, "x-rewritten": "yes" },
            }),
          },
        },
      ],
    });
    try {
      const res = await plainGet(`${proxy.url}/v2/`, { "x-dropped": "1" });
      expect(res.status).toBe(299);
      expect(res.headers["x-rewritten"]).toBe("yes");
      expect(res.headers["www-authenticate"]).toBeUndefined();
      expect(JSON.parse(res.body).errors[0].code).toBe("UNAUTHORIZED");
      expect(proxy.requests()[0]).toMatchObject({ fault: "rewrite", status: 299 });
    } finally {
      await proxy.stop();
    }
  });
});
