import { basic, type Keychain } from "@hoist/authn";
import { manualClock, useHtpasswdRegistry } from "@hoist/harness";
import { afterAll, describe, expect, it } from "vitest";
import { createTransport, RegistryError } from "../src/index.js";
import { caught, debugLog, pushBlob, registryAt } from "./helpers.js";

describe("htpasswd Basic auth (docker-registry)", () => {
  const registry = useHtpasswdRegistry({ users: { alice: "wonder-land" } });
  const log = debugLog();
  const transport = createTransport({ debug: log.debug });
  afterAll(() => transport.close());

  it("learns the Basic challenge from the ping", async () => {
    const result = await transport.ping(registryAt(registry().host));
    expect(result.status).toBe(401);
    expect(result.challenge).toEqual({ scheme: "basic", params: { realm: "hoist-basic" } });
  });

  it("pushes and pulls with the right credentials", async () => {
    const session = await transport.session({
      registry: registryAt(registry().host),
      authenticator: basic("alice", "wonder-land"),
    });
    const digest = await pushBlob(session, "alice/app", new TextEncoder().encode("basic bytes"));
    const res = await session.request({ method: "GET", path: `/v2/alice/app/blobs/${digest}` });
    expect(await res.text()).toBe("basic bytes");
    expect(log.text()).toContain("authorization: Basic <redacted>");
    expect(log.text()).not.toContain(Buffer.from("alice:wonder-land").toString("base64"));
  });

  it("asks the authenticator once a minute, not for every request", async () => {
    const clock = manualClock();
    const timed = createTransport({ clock });
    try {
      let asked = 0;
      const session = await timed.session({
        registry: registryAt(registry().host),
        authenticator: {
          authorization: async () => {
            asked++;
            return { kind: "basic", username: "alice", password: "wonder-land" };
          },
        },
      });
      const list = async () =>
        (await session.request({ method: "GET", path: "/v2/_catalog" })).discard();
      await Promise.all([list(), list(), list()]);
      for (let i = 0; i < 5; i++) await list();
      expect(asked).toBe(1);
      clock.advance(59_000);
      await list();
      expect(asked).toBe(1);
      clock.advance(2_000);
      await list();
      await list();
      expect(asked).toBe(2);
    } finally {
      await timed.close();
    }
  });

  it("resolves credentials through a keychain", async () => {
    const asked: string[] = [];
    const keychain: Keychain = {
      name: "test",
      resolve: async (resource) => {
        asked.push(String(resource));
        return basic("alice", "wonder-land");
      },
    };
    const session = await transport.session({ registry: registryAt(registry().host), keychain });
    const res = await session.request({ method: "GET", path: "/v2/_catalog" });
    expect(((await res.json()) as { repositories: string[] }).repositories).toContain("alice/app");
    expect(asked).toEqual([registry().host]);
  });

  it("reports refused credentials as a 401 RegistryError with a hint", async () => {
    const session = await transport.session({
      registry: registryAt(registry().host),
      authenticator: basic("alice", "wrong"),
    });
    const error = await caught<RegistryError>(() =>
      session.request({ method: "GET", path: "/v2/_catalog" }),
    );
    expect(RegistryError.is(error)).toBe(true);
    expect(error.status).toBe(401);
    expect(error.errors[0]?.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain(`${registry().host} refused the credentials`);
    expect(error.message).not.toContain("wrong");
  });

  it("tells an anonymous caller to log in", async () => {
    const session = await transport.session({ registry: registryAt(registry().host) });
    const error = await caught<RegistryError>(() =>
      session.request({ method: "GET", path: "/v2/_catalog" }),
    );
    expect(error.status).toBe(401);
    expect(error.message).toContain("No credentials were used");
  });

  it("refuses an authenticator and a keychain together, and wraps keychain failures", async () => {
    const keychain: Keychain = {
      name: "broken",
      resolve: async () => {
        throw new Error("helper exploded");
      },
    };
    await expect(
      transport.session({
        registry: registryAt(registry().host),
        keychain,
        authenticator: basic("a", "b"),
      }),
    ).rejects.toMatchObject({ code: "HOIST_TRANSPORT_INVALID_OPTIONS" });
    const error = await caught(() =>
      transport.session({ registry: registryAt(registry().host), keychain }),
    );
    expect(error.code).toBe("HOIST_TRANSPORT_CREDENTIALS");
    expect(error.message).toMatch(
      /Keychain "broken" could not resolve credentials for 127\.0\.0\.1:\d+: helper exploded/,
    );
  });
});
