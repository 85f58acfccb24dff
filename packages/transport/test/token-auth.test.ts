import { basic, identityToken, registryToken } from "@hoist/authn";
import { manualClock, useTokenAuthRegistry } from "@hoist/harness";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  createTransport,
  inspectToken,
  RegistryError,
  TokenExchangeError,
  TransportError,
} from "../src/index.js";
import { caught, debugLog, digestOf, pushBlob, registryAt } from "./helpers.js";

describe("token auth: docker-registry trusting our RS256 token server", () => {
  const env = useTokenAuthRegistry({
    users: {
      alice: {
        password: "alice-pw",
        access: [
          { name: "alice/*", actions: ["pull", "push"] },
          { name: "public/*", actions: ["pull"] },
        ],
      },
      bob: { password: "bob-pw", access: [{ name: "alice/*", actions: ["pull"] }] },
    },
    anonymous: [{ name: "public/*", actions: ["pull"] }],
  });
  const clock = manualClock({ start: Date.now() });
  const log = debugLog();
  const transport = createTransport({ clock, debug: log.debug });
  afterAll(() => transport.close());
  const registry = () => registryAt(env().registry.host);
  const tokens = () => env().tokenServer.requests();

  beforeEach(() => {
    env().tokenServer.clearRequests();
    env().tokenServer.configure({
      oauth: true,
      expiresInSeconds: 300,
      jwtLifetimeSeconds: undefined,
    });
  });

  it("pings and learns the Bearer challenge", async () => {
    const result = await transport.ping(registry());
    expect(result.challenge).toEqual({
      scheme: "bearer",
      params: { realm: env().tokenServer.realm, service: "hoist-registry" },
    });
  });

  it("upgrades a pull token to push with one re-authentication, then reuses it", async () => {
    const alice = basic("alice", "alice-pw");
    const session = await transport.session({
      registry: registry(),
      authenticator: alice,
      scopes: ["repository:alice/app:pull"],
    });
    const probe = await session.request({
      method: "GET",
      path: "/v2/alice/app/tags/list",
      expectStatus: [200, 404],
    });
    await probe.discard();
    expect(tokens().map((t) => [t.grantType, t.account, t.scopes])).toEqual([
      ["basic", "alice", ["repository:alice/app:pull"]],
    ]);

    // No push scope asked for: the registry answers insufficient_scope and the session upgrades.
    const digest = await pushBlob(session, "alice/app", new TextEncoder().encode("token bytes"));
    expect(digest).toBe(digestOf(new TextEncoder().encode("token bytes")));
    expect(tokens().map((t) => t.scopes)).toEqual([
      ["repository:alice/app:pull"],
      ["repository:alice/app:pull,push"],
    ]);
    expect(tokens()[1]?.granted).toEqual([
      { type: "repository", name: "alice/app", actions: ["pull", "push"] },
    ]);
    expect(session.scopes).toEqual(["repository:alice/app:pull,push"]);

    const blob = await session.request({ method: "GET", path: `/v2/alice/app/blobs/${digest}` });
    expect(await blob.text()).toBe("token bytes");
    expect(tokens()).toHaveLength(2);
    expect(log.text()).toContain("authorization: Bearer <redacted>");
    expect(log.text()).not.toMatch(/Bearer eyJ/);
  });

  it("mounts across repositories with both scopes in one token", async () => {
    const session = await transport.session({
      registry: registry(),
      authenticator: basic("alice", "alice-pw"),
      scopes: ["repository:alice/source:push,pull"],
    });
    const digest = await pushBlob(session, "alice/source", new TextEncoder().encode("mount me"));
    env().tokenServer.clearRequests();
    const mounted = await session.request({
      method: "POST",
      path: `/v2/alice/target/blobs/uploads/?mount=${digest}&from=alice/source`,
      scopes: ["repository:alice/target:push,pull", "repository:alice/source:pull"],
      expectStatus: [201],
    });
    await mounted.discard();
    expect(mounted.headers.get("docker-content-digest")).toBe(digest);
    expect(tokens()).toHaveLength(1);
    expect(tokens()[0]?.scopes).toEqual([
      "repository:alice/source:pull,push",
      "repository:alice/target:pull,push",
    ]);
  });

  it("re-authenticates once and then reports a user without push rights", async () => {
    const session = await transport.session({
      registry: registry(),
      authenticator: basic("bob", "bob-pw"),
      scopes: ["repository:alice/app:pull"],
    });
    const error = await caught<RegistryError>(() =>
      session.request({ method: "POST", path: "/v2/alice/app/blobs/uploads/", idempotent: true }),
    );
    expect(RegistryError.is(error)).toBe(true);
    expect(error.status).toBe(401);
    expect(error.hasCode("UNAUTHORIZED") || error.hasCode("DENIED")).toBe(true);
    expect(error.message).toContain("do not grant [repository:alice/app:pull,push]");
    expect(tokens().map((t) => t.scopes)).toEqual([
      ["repository:alice/app:pull"],
      ["repository:alice/app:pull,push"],
    ]);
  });

  it("gives anonymous callers their own (public) token", async () => {
    const session = await transport.session({
      registry: registry(),
      scopes: ["repository:public/base:pull"],
    });
    const res = await session.request({
      method: "GET",
      path: "/v2/public/base/tags/list",
      expectStatus: [404],
    });
    expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe(
      "NAME_UNKNOWN",
    );
    expect(tokens()[0]).toMatchObject({ grantType: "anonymous", authorization: false });
  });

  it("reports wrong passwords as a TokenExchangeError without the password", async () => {
    const session = await transport.session({
      registry: registry(),
      authenticator: basic("alice", "nope-pw"),
    });
    const error = await caught<TokenExchangeError>(() =>
      session.request({ method: "GET", path: "/v2/alice/app/tags/list" }),
    );
    expect(TransportError.is(error)).toBe(true);
    expect(error).toBeInstanceOf(TokenExchangeError);
    expect(error.code).toBe("HOIST_TRANSPORT_TOKEN_EXCHANGE");
    expect(error.status).toBe(401);
    expect(error.message).toMatch(
      /Token exchange at http:\/\/127\.0\.0\.1:\d+\/token as "alice" for \[\] failed: 401 Unauthorized: UNAUTHORIZED: invalid username or password/,
    );
    expect(error.message).not.toContain("nope-pw");
  });

  it("caches tokens per scope set until expires_in, across sessions and concurrent requests", async () => {
    const alice = basic("alice", "alice-pw");
    env().tokenServer.configure({ expiresInSeconds: 120 });
    const open = () =>
      transport.session({
        registry: registry(),
        authenticator: alice,
        scopes: ["repository:alice/cache:pull"],
      });
    const first = await open();
    const second = await open();
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const res = await (i % 2 ? first : second).request({
          method: "GET",
          path: "/v2/alice/cache/tags/list",
          expectStatus: [404],
        });
        await res.discard();
      }),
    );
    expect(tokens()).toHaveLength(1);
    clock.advance(100_000); // within 120 s less the safety margin (12 s)
    await (
      await first.request({ method: "GET", path: "/v2/alice/cache/tags/list", expectStatus: [404] })
    ).discard();
    expect(tokens()).toHaveLength(1);
    clock.advance(10_000);
    await (
      await first.request({ method: "GET", path: "/v2/alice/cache/tags/list", expectStatus: [404] })
    ).discard();
    expect(tokens()).toHaveLength(2);
  });

  it("refreshes a token the registry says has expired, once", async () => {
    // Tokens that expired two minutes ago (beyond the registry's clock-skew leeway) while
    // expires_in still claims 300 s: only the registry's 401 can reveal it.
    env().tokenServer.configure({ jwtLifetimeSeconds: -120 });
    const session = await transport.session({
      registry: registry(),
      authenticator: basic("alice", "alice-pw"),
      scopes: ["repository:alice/expiry:pull"],
    });
    const error = await caught<RegistryError>(() =>
      session.request({ method: "GET", path: "/v2/alice/expiry/tags/list" }),
    );
    expect(error.status).toBe(401);
    expect(tokens()).toHaveLength(2);
    expect(await env().registry.waitForLog(/invalid token/)).toMatch(/invalid token/);

    env().tokenServer.configure({ jwtLifetimeSeconds: undefined });
    const res = await session.request({
      method: "GET",
      path: "/v2/alice/expiry/tags/list",
      expectStatus: [404],
    });
    await res.discard();
    expect(tokens()).toHaveLength(3);
  });

  it("exchanges an identity (refresh) token with an OAuth2 POST and keeps the rotated one", async () => {
    env().tokenServer.configure({ rotateRefreshTokens: true });
    const refresh = env().tokenServer.issueRefreshToken("alice");
    const owner = identityToken(refresh);
    const open = (repo: string) =>
      transport.session({
        registry: registry(),
        authenticator: owner,
        scopes: [`repository:alice/${repo}:pull`],
      });
    await (
      await (
        await open("one")
      ).request({ method: "GET", path: "/v2/alice/one/tags/list", expectStatus: [404] })
    ).discard();
    await (
      await (
        await open("two")
      ).request({ method: "GET", path: "/v2/alice/two/tags/list", expectStatus: [404] })
    ).discard();
    env().tokenServer.configure({ rotateRefreshTokens: false });
    expect(tokens().map((t) => [t.method, t.grantType, t.account, t.clientId, t.status])).toEqual([
      ["POST", "refresh_token", "alice", "hoist", 200],
      ["POST", "refresh_token", "alice", "hoist", 200],
    ]);
    expect(tokens()[0]?.scopes).toEqual(["repository:alice/one:pull"]);
  });

  it("falls back to the GET flow when the realm has no OAuth2 endpoint", async () => {
    env().tokenServer.configure({ oauth: false });
    const session = await transport.session({
      registry: registry(),
      authenticator: identityToken("unused-refresh-token"),
      scopes: ["repository:public/fallback:pull"],
    });
    await (
      await session.request({
        method: "GET",
        path: "/v2/public/fallback/tags/list",
        expectStatus: [404],
      })
    ).discard();
    expect(tokens().map((t) => [t.method, t.status, t.grantType])).toEqual([
      ["POST", 404, "invalid"],
      ["GET", 200, "anonymous"],
    ]);
  });

  it("uses a registry token as it is, without any exchange", async () => {
    const minted = await transport.exchangeToken({
      registry: registry(),
      authenticator: basic("alice", "alice-pw"),
      scopes: ["repository:alice/app:pull"],
    });
    env().tokenServer.clearRequests();
    const session = await transport.session({
      registry: registry(),
      authenticator: registryToken(minted.token),
    });
    const digest = digestOf(new TextEncoder().encode("token bytes"));
    const res = await session.request({ method: "GET", path: `/v2/alice/app/blobs/${digest}` });
    expect(await res.text()).toBe("token bytes");
    expect(tokens()).toHaveLength(0);
  });

  it("exchanges tokens on demand for `auth token`, with a refresh token from the password grant", async () => {
    const answer = await transport.exchangeToken({
      registry: registry(),
      authenticator: basic("alice", "alice-pw"),
      scopes: ["repository:alice/app:pull,push"],
      grant: "password",
    });
    expect(answer.refreshToken).toMatch(/^[0-9a-f]{48}$/);
    expect(answer.expiresIn).toBe(300);
    expect(answer.accessToken).toBe(answer.token);
    const info = inspectToken(answer.token);
    expect(info).toMatchObject({
      issuer: "hoist-token-server",
      subject: "alice",
      audience: ["hoist-registry"],
      access: [{ type: "repository", name: "alice/app", actions: ["pull", "push"] }],
    });
    expect(info?.header.x5c).toHaveLength(1);
    expect(tokens()[0]).toMatchObject({
      method: "POST",
      grantType: "password",
      issuedRefreshToken: true,
    });
  });
});
