import { anonymous, basic, type Keychain } from "@hoist/authn";
import { useHtpasswdRegistry, useTokenAuthRegistry } from "@hoist/harness";
import { randomImage } from "@hoist/oci";
import { describe, expect, it } from "vitest";
import { copy, createPuller, createPusher, list, type RemoteError, write } from "../src/index.js";
import { caught, uniqueRepo } from "./helpers.js";

describe("a registry with htpasswd Basic auth", () => {
  const registry = useHtpasswdRegistry({ users: { ci: "ci-secret" } });
  const image = randomImage({ layers: 1, layerSize: 512, seed: 1 });

  it("pushes and pulls with the right credentials", async () => {
    const ref = `${registry().host}/${uniqueRepo("basic")}:v1`;
    const auth = basic("ci", "ci-secret");
    await write(ref, image, { auth });
    const puller = createPuller({ auth });
    try {
      const pulled = await puller.image(ref);
      expect((await pulled.digest()).equals(await image.digest())).toBe(true);
    } finally {
      await puller.close();
    }
  });

  it("says who is refused and what to do", async () => {
    const ref = `${registry().host}/${uniqueRepo("basic")}:v1`;
    const none = await caught<RemoteError>(() => write(ref, image));
    expect(none.code).toBe("HOIST_REMOTE_UNAUTHORIZED");
    expect(none.status).toBe(401);
    expect(none.message).toMatch(/credentials/);
    const wrong = await caught<RemoteError>(() =>
      write(ref, image, { auth: basic("ci", "not-it") }),
    );
    expect(wrong.code).toBe("HOIST_REMOTE_UNAUTHORIZED");
    expect(wrong.message).not.toContain("not-it");
  });

  it("resolves credentials per repository from a keychain", async () => {
    const asked: string[] = [];
    const keychain: Keychain = {
      name: "test keychain",
      async resolve(resource) {
        asked.push(String(resource));
        return basic("ci", "ci-secret");
      },
    };
    const repo = uniqueRepo("keychain");
    await write(`${registry().host}/${repo}:v1`, image, { keychain });
    expect(asked).toEqual([`${registry().host}/${repo}`]);
    const both = await caught<RemoteError>(() =>
      write(`${registry().host}/${repo}:v2`, image, { keychain, auth: anonymous }),
    );
    expect(both.code).toBe("HOIST_REMOTE_INVALID_OPTIONS");
    expect(both.message).toMatch(/either keychain or auth/);
  });
});

describe("a registry with token auth (token server)", () => {
  const env = useTokenAuthRegistry({
    users: {
      alice: {
        password: "a-pw",
        access: [
          { name: "alice/*", actions: ["pull", "push", "delete"] },
          { name: "public/*", actions: ["pull"] },
        ],
      },
      admin: { password: "admin-pw", access: [{ name: "*", actions: ["*"] }] },
      bob: { password: "b-pw", access: [{ name: "alice/*", actions: ["pull"] }] },
    },
    anonymous: [{ name: "public/*", actions: ["pull"] }],
  });
  const alice = basic("alice", "a-pw");
  const image = randomImage({ layers: 2, layerSize: 1024, seed: 2 });

  it("asks for pull and push together when pushing (Harbor refuses push alone)", async () => {
    const repo = `alice/${uniqueRepo("app")}`;
    env().tokenServer.clearRequests();
    await write(`${env().registry.host}/${repo}:v1`, image, { auth: alice });
    const scopes = env()
      .tokenServer.requests()
      .flatMap((r) => r.scopes);
    expect(scopes).toContain(`repository:${repo}:pull,push`);
    expect(
      env()
        .tokenServer.requests()
        .every((r) => r.status === 200),
    ).toBe(true);
  });

  it("adds the source's pull scope to mount from it, with one exchange per scope set", async () => {
    const source = `alice/${uniqueRepo("src")}`;
    const target = `alice/${uniqueRepo("dst")}`;
    const host = env().registry.host;
    await write(`${host}/${source}:v1`, image, { auth: alice });
    env().tokenServer.clearRequests();
    const pusher = createPusher({ auth: alice });
    try {
      await pusher.copy(`${host}/${source}:v1`, `${host}/${target}:v1`);
      // A second copy of the same image costs no new token.
      const before = env().tokenServer.requests().length;
      await pusher.copy(`${host}/${source}:v1`, `${host}/${target}:v2`);
      expect(env().tokenServer.requests().length).toBe(before);
    } finally {
      await pusher.close();
    }
    const requests = env().tokenServer.requests();
    // Reading the source (pull), pushing the target (pull,push), then mounting (both scopes).
    expect(requests.map((r) => r.scopes)).toEqual([
      [`repository:${source}:pull`],
      [`repository:${target}:pull,push`],
      [`repository:${target}:pull,push`, `repository:${source}:pull`],
    ]);
    expect(
      await env().registry.waitForLog(
        new RegExp(`POST /v2/${target}/blobs/uploads/\\?mount=\\S+ HTTP/1.1" 201`),
      ),
    ).toBeTruthy();
  });

  it("pulls with read-only credentials and refuses their pushes", async () => {
    const repo = `alice/${uniqueRepo("ro")}`;
    const host = env().registry.host;
    await write(`${host}/${repo}:v1`, image, { auth: alice });
    const bob = basic("bob", "b-pw");
    expect(await list(`${host}/${repo}`, { auth: bob })).toEqual(["v1"]);
    const pusher = createPusher({ auth: bob });
    try {
      const denied = await caught<RemoteError>(() =>
        pusher.checkPushPermission(`${host}/${repo}:v2`),
      );
      expect(denied.code).toBe("HOIST_REMOTE_UNAUTHORIZED");
      expect(denied.registryErrors.some((e) => e.code === "UNAUTHORIZED")).toBe(true);
      const allowed = createPusher({ auth: alice });
      try {
        await allowed.checkPushPermission(`${host}/${repo}:v2`);
      } finally {
        await allowed.close();
      }
    } finally {
      await pusher.close();
    }
  });

  it("lets anyone pull public repositories, and only credentials push", async () => {
    const host = env().registry.host;
    const base = `public/${uniqueRepo("base")}`;
    await write(`${host}/${base}:v1`, image, { auth: basic("admin", "admin-pw") });
    const anonymousPuller = createPuller();
    try {
      const pulled = await anonymousPuller.image(`${host}/${base}:v1`);
      expect((await pulled.digest()).equals(await image.digest())).toBe(true);
    } finally {
      await anonymousPuller.close();
    }
    const refused = await caught<RemoteError>(() =>
      write(`${host}/${base}:v2`, randomImage({ layers: 1, layerSize: 64, seed: 3 })),
    );
    expect(refused.code).toBe("HOIST_REMOTE_UNAUTHORIZED");
    // Alice may read public/* and write alice/*: her copy mounts the public layers.
    const target = `alice/${uniqueRepo("from-public")}`;
    await copy(`${host}/${base}:v1`, `${host}/${target}:v1`, { auth: alice });
    expect(
      await env().registry.waitForLog(
        new RegExp(
          `POST /v2/${target}/blobs/uploads/\\?mount=\\S+&from=public%2F\\S+ HTTP/1.1" 201`,
        ),
      ),
    ).toBeTruthy();
  });
});
