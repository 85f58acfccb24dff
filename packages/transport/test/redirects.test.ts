import { basic } from "@hoist/authn";
import {
  type RunningFaultProxy,
  type RunningHttpOrigin,
  type RunningTokenServer,
  startFaultProxy,
  startHttpOrigin,
  startTokenServer,
  useStarted,
  useTokenAuthRegistry,
} from "@hoist/harness";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createTransport, type RegistryError, type Session } from "../src/index.js";
import { caught, debugLog, pushBlob, registryAt } from "./helpers.js";

const BLOB = new TextEncoder().encode("layer bytes served by a CDN");

describe("redirects to a second loopback origin", () => {
  const env = useTokenAuthRegistry({
    users: { alice: { password: "alice-pw", access: [{ name: "*", actions: ["pull", "push"] }] } },
  });
  const proxy = useStarted<RunningFaultProxy>(
    "fault proxy",
    () => startFaultProxy({ target: env().registry.url }),
    (p) => p.stop(),
  );
  const cdn = useStarted<RunningHttpOrigin>(
    "cdn",
    () => startHttpOrigin(),
    (o) => o.stop(),
  );
  const cdnTokens = useStarted<RunningTokenServer>(
    "cdn token server",
    () =>
      startTokenServer({
        service: "cdn",
        issuer: "cdn-issuer",
        anonymous: [{ type: "blob", name: "*", actions: ["read"] }],
      }),
    (t) => t.stop(),
  );
  const log = debugLog();
  const transport = createTransport({ debug: log.debug });
  afterAll(() => transport.close());
  let session: Session;
  let digest: string;
  const blobPath = () => `/v2/redirect/app/blobs/${digest}`;
  const registryTokens = () =>
    env()
      .tokenServer.requests()
      .filter((r) => r.status === 200).length;

  beforeEach(async () => {
    proxy().clearRules();
    session ??= await transport.session({
      registry: registryAt(proxy().host),
      authenticator: basic("alice", "alice-pw"),
      scopes: ["repository:redirect/app:pull,push"],
    });
    digest ??= await pushBlob(session, "redirect/app", BLOB);
    cdn().clearRequests();
    cdnTokens().clearRequests();
    log.lines.length = 0;
  });

  it("follows a 307 to a presigned URL on another origin without sending credentials", async () => {
    proxy().setRules([
      {
        method: "GET",
        path: blobPath(),
        fault: {
          kind: "redirect",
          status: 307,
          location: `${cdn().url}/blobs/${digest}?X-Amz-Signature=s3cr3t&X-Amz-Expires=60`,
        },
      },
    ]);
    cdn().setHandler((request, res) => {
      res.writeHead(request.headers.authorization ? 400 : 200, { "content-length": BLOB.length });
      res.end(BLOB);
    });
    const res = await session.request({
      method: "GET",
      path: blobPath(),
      headers: { accept: "*/*" },
    });
    expect(await res.bytes()).toEqual(BLOB);
    expect(res.redirected).toBe(true);
    expect(new URL(res.url).origin).toBe(cdn().url);
    const [seen] = cdn().requests();
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers.accept).toBe("*/*");
    expect(seen?.path).toBe(`/blobs/${digest}?X-Amz-Signature=s3cr3t&X-Amz-Expires=60`);
    // The registry request itself was authenticated.
    expect(proxy().requests().at(-1)?.headers.authorization).toMatch(/^Bearer /);
    expect(log.text()).toContain("X-Amz-Signature=REDACTED");
    expect(log.text()).not.toContain("s3cr3t");
  });

  it("gets a redirect target that challenges its own anonymous token from its own realm", async () => {
    proxy().setRules([
      {
        method: "GET",
        path: blobPath(),
        fault: { kind: "redirect", status: 302, location: `${cdn().url}/protected/${digest}` },
      },
    ]);
    cdn().setHandler((request, res) => {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
      if (!token || !cdnTokens().verify(token)) {
        res.writeHead(401, {
          "www-authenticate": `Bearer realm="${cdnTokens().realm}",service="cdn",scope="blob:${digest}:read"`,
          "content-length": 0,
        });
        res.end();
        return;
      }
      res.writeHead(200, { "content-length": BLOB.length });
      res.end(BLOB);
    });
    const before = registryTokens();
    const res = await session.request({ method: "GET", path: blobPath() });
    expect(await res.bytes()).toEqual(BLOB);

    const [challenged, authorised] = cdn().requests();
    expect(challenged?.headers.authorization).toBeUndefined();
    const cdnToken = authorised?.headers.authorization?.replace("Bearer ", "") ?? "";
    expect(cdnTokens().verify(cdnToken)).toMatchObject({ iss: "cdn-issuer", sub: "" });
    // The registry's token never reached the CDN, and the CDN's exchange was anonymous.
    const registryAuthorization = proxy().requests().at(-1)?.headers.authorization;
    expect(registryAuthorization).toMatch(/^Bearer /);
    expect(
      cdn()
        .requests()
        .map((r) => r.headers.authorization),
    ).not.toContain(registryAuthorization);
    expect(cdnTokens().requests()).toEqual([
      expect.objectContaining({
        grantType: "anonymous",
        authorization: false,
        scopes: [`blob:${digest}:read`],
      }),
    ]);
    // The session's own token and scopes are untouched.
    expect(registryTokens()).toBe(before);
    expect(session.scopes).toEqual(["repository:redirect/app:pull,push"]);
  });

  it("keeps credentials on a relative redirect within the registry", async () => {
    proxy().setRules([
      {
        method: "GET",
        path: "/v2/redirect/app/moved",
        fault: { kind: "redirect", status: 301, location: blobPath() },
      },
    ]);
    const res = await session.request({ method: "GET", path: "/v2/redirect/app/moved" });
    expect(await res.bytes()).toEqual(BLOB);
    const hops = proxy().requests().slice(-2);
    expect(hops.map((r) => r.path)).toEqual(["/v2/redirect/app/moved", blobPath()]);
    expect(hops.every((r) => r.headers.authorization?.startsWith("Bearer "))).toBe(true);
  });

  it("stops a redirect loop after the maximum number of hops", async () => {
    proxy().setRules([
      { method: "GET", path: "/v2/loop", fault: { kind: "redirect", location: "/v2/loop" } },
    ]);
    const error = await caught(() => session.request({ method: "GET", path: "/v2/loop" }));
    expect(error.code).toBe("HOIST_TRANSPORT_TOO_MANY_REDIRECTS");
    expect(
      proxy()
        .requests()
        .filter((r) => r.path === "/v2/loop"),
    ).toHaveLength(6);
  });

  it("refuses to be redirected to the cloud metadata service", async () => {
    proxy().setRules([
      {
        method: "GET",
        path: "/v2/ssrf",
        fault: { kind: "redirect", location: "http://169.254.169.254/latest/meta-data/" },
      },
    ]);
    const error = await caught(() => session.request({ method: "GET", path: "/v2/ssrf" }));
    expect(error.code).toBe("HOIST_TRANSPORT_UNSAFE_TARGET");
  });

  it("returns redirects as they are when asked to", async () => {
    proxy().setRules([
      {
        method: "GET",
        path: blobPath(),
        fault: { kind: "redirect", status: 307, location: `${cdn().url}/x` },
      },
    ]);
    const res = await session.request({
      method: "GET",
      path: blobPath(),
      redirect: "manual",
      expectStatus: [307],
    });
    expect(res.headers.get("location")).toBe(`${cdn().url}/x`);
    expect(cdn().requests()).toHaveLength(0);
    const error = await caught<RegistryError>(() =>
      session.request({ method: "GET", path: blobPath(), redirect: "manual" }),
    );
    expect(error.status).toBe(307);
  });
});
