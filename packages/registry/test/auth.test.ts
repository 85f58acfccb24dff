import { afterEach, describe, expect, it, vi } from "vitest";
import { type AccessPolicy, createRegistry } from "../src/index.js";
import { client, OCI_MANIFEST, raw, sha256 } from "./support/http.js";
import { useRegistry } from "./support/registries.js";

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

// alice may do anything; reader may only pull; anonymous may pull "public/*".
const policy: AccessPolicy = ({ user, type, name, action }) => {
  if (user === "alice") return true;
  if (user === "reader") return type === "repository" && action === "pull";
  return type === "repository" && name.startsWith("public/") && action === "pull";
};
const users = { alice: "wonderland", reader: "books" };

describe("basic auth", () => {
  const registry = useRegistry("memory", {
    auth: { type: "basic", users, access: policy, realm: "test realm" },
  });
  const as = (user?: string, password?: string) =>
    client(registry().url, { headers: user ? { Authorization: basic(user, password ?? "") } : {} });

  it("challenges a ping without credentials and with wrong ones", async () => {
    for (const api of [as(), as("alice", "wrong"), as("mallory", "x")]) {
      const res = await api.call("/v2/");
      expect(res.status).toBe(401);
      expect(res.codes()).toEqual(["UNAUTHORIZED"]);
      expect(res.headers["www-authenticate"]).toBe('Basic realm="test realm"');
    }
    expect((await as("alice", "wonderland").call("/v2/")).status).toBe(200);
  });

  it("lets the policy decide, with DENIED for a known user and UNAUTHORIZED for anonymous", async () => {
    const image = await as("alice", "wonderland").pushImage("public/app", "v1");
    const read = await as("reader", "books").call("/v2/public/app/manifests/v1", {
      headers: { Accept: OCI_MANIFEST },
    });
    expect(read.status).toBe(200);
    const push = await as("reader", "books").pushManifest(
      "public/app",
      "v2",
      image.manifest,
      OCI_MANIFEST,
    );
    expect(push.status).toBe(403);
    expect(push.codes()).toEqual(["DENIED"]);
    const anonymousRead = await as().call("/v2/public/app/manifests/v1", {
      headers: { Accept: OCI_MANIFEST },
    });
    expect(anonymousRead.status).toBe(200);
    const anonymousPush = await as().call("/v2/public/app/blobs/uploads/", { method: "POST" });
    expect(anonymousPush.status).toBe(401);
    expect(anonymousPush.headers["www-authenticate"]).toBe('Basic realm="test realm"');
    const anonymousPrivate = await as().call("/v2/private/app/tags/list");
    expect(anonymousPrivate.status).toBe(401);
    expect((await as("reader", "books").call("/v2/_catalog")).codes()).toEqual(["DENIED"]);
    expect((await as("alice", "wonderland").call("/v2/_catalog")).status).toBe(200);
    const del = await as("reader", "books").call(`/v2/public/app/manifests/${image.digest}`, {
      method: "DELETE",
    });
    expect(del.codes()).toEqual(["DENIED"]);
  });
});

describe("basic auth with the default policy", () => {
  const registry = useRegistry("memory", { auth: { type: "basic", users } });

  it("lets every authenticated user do everything and anonymous users nothing", async () => {
    const reader = client(registry().url, { headers: { Authorization: basic("reader", "books") } });
    await reader.pushImage("any/repo", "v1");
    expect((await reader.call("/v2/_catalog")).json()).toEqual({ repositories: ["any/repo"] });
    const anonymous = await raw(`${registry().url}/v2/any/repo/tags/list`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toBe('Basic realm="hoist-registry"');
  });
});

describe("bearer auth", () => {
  const registry = useRegistry("memory", {
    auth: { type: "bearer", users, access: policy, service: "test-service" },
  });

  async function token(scopes: string[], credentials?: [string, string]) {
    const query = new URLSearchParams([
      ["service", "test-service"],
      ...scopes.map((s) => ["scope", s] as [string, string]),
    ]);
    const res = await raw(`${registry().url}/token?${query}`, {
      headers: credentials ? { Authorization: basic(...credentials) } : {},
    });
    return res;
  }
  const bearer = (value: string) =>
    client(registry().url, { headers: { Authorization: `Bearer ${value}` } });

  it("challenges with the realm, service and the scope the request needs", async () => {
    const ping = await raw(`${registry().url}/v2/`);
    expect(ping.status).toBe(401);
    expect(ping.headers["www-authenticate"]).toBe(
      `Bearer realm="${registry().url}/token",service="test-service"`,
    );
    const pull = await raw(`${registry().url}/v2/some/repo/manifests/latest`);
    expect(pull.headers["www-authenticate"]).toBe(
      `Bearer realm="${registry().url}/token",service="test-service",scope="repository:some/repo:pull"`,
    );
    const push = await raw(`${registry().url}/v2/some/repo/blobs/uploads/`, { method: "POST" });
    expect(push.headers["www-authenticate"]).toContain('scope="repository:some/repo:pull,push"');
    const del = await raw(`${registry().url}/v2/some/repo/manifests/latest`, { method: "DELETE" });
    expect(del.headers["www-authenticate"]).toContain('scope="repository:some/repo:delete"');
    const catalog = await raw(`${registry().url}/v2/_catalog`);
    expect(catalog.headers["www-authenticate"]).toContain('scope="registry:catalog:*"');
  });

  it("issues tokens for the scopes the policy grants and honours them", async () => {
    const res = await token(
      ["repository:team/app:pull,push", "registry:catalog:*"],
      ["alice", "wonderland"],
    );
    expect(res.status).toBe(200);
    const body = res.json<{
      token: string;
      access_token: string;
      expires_in: number;
      issued_at: string;
    }>();
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(300);
    const api = bearer(body.token);
    expect((await api.call("/v2/")).status).toBe(200);
    await api.pushImage("team/app", "v1");
    expect((await api.call("/v2/_catalog")).status).toBe(200);
    // The token is for team/app only.
    const other = await api.call("/v2/team/other/tags/list");
    expect(other.status).toBe(401);
    expect(other.headers["www-authenticate"]).toContain('error="insufficient_scope"');
  });

  it("answers a token short of the needed scope with insufficient_scope", async () => {
    const readerToken = (await token(["repository:team/app:pull,push"], ["reader", "books"])).json<{
      token: string;
    }>().token;
    const api = bearer(readerToken);
    expect((await api.call("/v2/team/app/tags/list")).status).not.toBe(401);
    const push = await api.call("/v2/team/app/blobs/uploads/", { method: "POST" });
    expect(push.status).toBe(401);
    expect(push.codes()).toEqual(["UNAUTHORIZED"]);
    expect(push.headers["www-authenticate"]).toBe(
      `Bearer realm="${registry().url}/token",service="test-service",scope="repository:team/app:pull,push",error="insufficient_scope"`,
    );
  });

  it("gives anonymous tokens only what anonymous users may do", async () => {
    const anonymous = await token(["repository:public/lib:pull,push", "repository:team/app:pull"]);
    expect(anonymous.status).toBe(200);
    const api = bearer(anonymous.json<{ token: string }>().token);
    const alice = bearer(
      (await token(["repository:public/lib:push,pull"], ["alice", "wonderland"])).json<{
        token: string;
      }>().token,
    );
    await alice.pushImage("public/lib", "v1");
    expect((await api.call("/v2/public/lib/tags/list")).status).toBe(200);
    expect((await api.call("/v2/public/lib/blobs/uploads/", { method: "POST" })).status).toBe(401);
    expect((await api.call("/v2/team/app/tags/list")).status).toBe(401);
  });

  it("refuses wrong credentials and a foreign service at the token endpoint", async () => {
    const wrong = await token(["repository:x:pull"], ["alice", "nope"]);
    expect(wrong.status).toBe(401);
    expect(wrong.codes()).toEqual(["UNAUTHORIZED"]);
    const foreign = await raw(`${registry().url}/token?service=elsewhere&scope=repository:x:pull`);
    expect(foreign.status).toBe(400);
  });

  it("refuses tampered and foreign tokens with invalid_token", async () => {
    const good = (await token(["repository:team/app:pull"], ["alice", "wonderland"])).json<{
      token: string;
    }>().token;
    const [payload] = good.split(".");
    const forged = Buffer.from(
      JSON.stringify({
        sub: "alice",
        access: [{ type: "repository", name: "team/app", actions: ["*"] }],
        iat: 0,
        exp: 2e9,
      }),
    ).toString("base64url");
    for (const bad of [
      `${forged}.${good.split(".")[1]}`,
      `${payload}.AAAA`,
      "garbage",
      `${payload}`,
    ]) {
      const res = await bearer(bad).call("/v2/team/app/tags/list");
      expect(res.status, bad).toBe(401);
      expect(res.headers["www-authenticate"]).toContain('error="invalid_token"');
    }
  });

  it("does not mount from a repository the token cannot pull", async () => {
    const alice = bearer(
      (await token(["repository:secret/src:pull,push"], ["alice", "wonderland"])).json<{
        token: string;
      }>().token,
    );
    const { digest } = await alice.pushBlob("secret/src", "confidential");
    const onlyTarget = bearer(
      (await token(["repository:team/target:pull,push"], ["alice", "wonderland"])).json<{
        token: string;
      }>().token,
    );
    const res = await onlyTarget.call(
      `/v2/team/target/blobs/uploads/?mount=${digest}&from=secret/src`,
      { method: "POST" },
    );
    expect(res.status).toBe(202);
    const both = bearer(
      (
        await token(
          ["repository:team/target:pull,push", "repository:secret/src:pull"],
          ["alice", "wonderland"],
        )
      ).json<{
        token: string;
      }>().token,
    );
    const mounted = await both.call(
      `/v2/team/target/blobs/uploads/?mount=${digest}&from=secret/src`,
      { method: "POST" },
    );
    expect(mounted.status).toBe(201);
    expect(sha256("confidential")).toBe(digest);
  });
});

describe("token expiry", () => {
  const registry = useRegistry("memory", {
    auth: { type: "bearer", users, tokenLifetimeSeconds: 60 },
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("refuses a token once it has expired", async () => {
    const res = await raw(`${registry().url}/token?scope=repository:a/b:pull`, {
      headers: { Authorization: basic("alice", "wonderland") },
    });
    const { token, expires_in } = res.json<{ token: string; expires_in: number }>();
    expect(expires_in).toBe(60);
    const api = client(registry().url, { headers: { Authorization: `Bearer ${token}` } });
    expect((await api.call("/v2/")).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 61_000 });
    const expired = await api.call("/v2/");
    expect(expired.status).toBe(401);
    expect(expired.json<{ errors: { message: string }[] }>().errors[0]?.message).toMatch(/expired/);
  });
});

describe("auth options", () => {
  it.each([
    [{ type: "digest", users }, /auth.type/],
    [{ type: "basic", users: { "a:b": "x" } }, /contain no ":"/],
    [{ type: "basic", users: { a: 5 } }, /password string/],
    [{ type: "bearer", tokenLifetimeSeconds: -1 }, /tokenLifetimeSeconds/],
  ])("refuses %j", (auth, message) => {
    expect(() => createRegistry({ auth: auth as never })).toThrow(message);
    expect(() => createRegistry({ auth: auth as never })).toThrow(
      expect.objectContaining({ code: "HOIST_REGISTRY_INVALID_OPTION" }),
    );
  });
});
