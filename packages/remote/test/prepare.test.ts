import { basic, type Keychain } from "@hoist/authn";
import { useHtpasswdRegistry, useStarted } from "@hoist/harness";
import { Repository } from "@hoist/name";
import { randomImage } from "@hoist/oci";
import { type RunningRegistry, startRegistry } from "@hoist/registry";
import { describe, expect, it } from "vitest";
import { createPusher, type RemoteError } from "../src/index.js";
import { caught, uniqueRepo } from "./helpers.js";

// Pusher.prepare: the handshake of a push, done ahead of it and reused by it.

describe("Pusher.prepare", () => {
  const embedded = useStarted<RunningRegistry>(
    "@hoist/registry",
    () => startRegistry({}),
    (r) => r.close(),
  );
  const htpasswd = useHtpasswdRegistry({ users: { ci: "ci-secret" } });
  const image = randomImage({ layers: 1, layerSize: 512, seed: 7 });

  it("pings once, sends nothing else, and the push that follows does not ping again", async () => {
    const pusher = createPusher();
    try {
      const repo = uniqueRepo("prepare");
      embedded().clearRequests();
      await pusher.prepare(`${embedded().host}/${repo}:v1`);
      expect(
        embedded()
          .requests()
          .map((r) => r.route),
      ).toEqual(["ping"]);
      await pusher.prepare(`${embedded().host}/${repo}`);
      await pusher.write(`${embedded().host}/${repo}:v1`, image);
      const routes = embedded()
        .requests()
        .map((r) => r.route);
      expect(routes.filter((route) => route === "ping")).toHaveLength(1);
      expect(routes.length).toBeGreaterThan(2);
    } finally {
      await pusher.close();
    }
  });

  it("looks the credentials up once for the prepare and the push (docker-registry)", async () => {
    const asked: string[] = [];
    const keychain: Keychain = {
      name: "counting keychain",
      async resolve(resource) {
        asked.push(String(resource));
        return basic("ci", "ci-secret");
      },
    };
    const pusher = createPusher({ keychain });
    try {
      const repo = uniqueRepo("prepare-auth");
      await pusher.prepare(Repository.parse(`${htpasswd().host}/${repo}`));
      expect(asked).toEqual([`${htpasswd().host}/${repo}`]);
      const pushed = await pusher.write(`${htpasswd().host}/${repo}:v1`, image);
      expect(pushed.digest.equals(await image.digest())).toBe(true);
      expect(asked).toHaveLength(1);
    } finally {
      await pusher.close();
    }
  });

  it("fails as the push would, keeps no failure, and refuses what is not a reference", async () => {
    const pusher = createPusher({ retry: false });
    try {
      const unreachable = "127.0.0.1:1/nowhere:v1";
      const first = await caught<RemoteError>(() => pusher.prepare(unreachable));
      expect(first.name).toBe("RemoteError");
      expect(first.message).toContain("127.0.0.1:1");
      const pushed = await caught<RemoteError>(() => pusher.write(unreachable, image));
      expect(pushed.code).toBe(first.code);
      const again = await caught<RemoteError>(() => pusher.prepare(unreachable));
      expect(again.code).toBe(first.code);
      const bad = await caught<RemoteError>(() => pusher.prepare("Not A Reference"));
      expect(bad.code).toBe("HOIST_REMOTE_INVALID_ARGUMENT");
      expect(bad.operation).toBe("prepare push");
    } finally {
      await pusher.close();
    }
  });
});
