import { join } from "node:path";
import { useHtpasswdRegistry, useTokenAuthRegistry } from "@hoist/harness";
import { startRegistry } from "@hoist/registry";
import { describe, expect, it } from "vitest";
import { layoutWith, sha256, skopeo, testImage } from "./fixtures.js";
import { expectOneLineError, isolatedEnv, runCli, useTempDir } from "./helpers.js";

const temp = useTempDir();

describe("a Basic-auth docker-registry, credentials from DOCKER_CONFIG", () => {
  const registry = useHtpasswdRegistry({ users: { alice: "wonderland" } });

  it("fails in one line without credentials, works after hoist auth login", async () => {
    const env = isolatedEnv(join(temp(), "basic-home"));
    const layout = await layoutWith(temp(), "basic-image", [testImage("basic")]);
    const target = `${registry().host}/private/app:v1`;

    const anonymous = await runCli(["push", layout, target], { env });
    expect(expectOneLineError(anonymous)).toMatch(
      new RegExp(`hoist auth login ${registry().host.replace(/\./g, "\\.")}`),
    );

    const login = await runCli(
      ["auth", "login", registry().host, "-u", "alice", "-p", "wonderland"],
      { env },
    );
    expect(login.status).toBe(0);
    const pushed = await runCli(["push", layout, target], { env });
    expect(pushed.status, pushed.stderr).toBe(0);
    const raw = await skopeo([
      "inspect",
      "--raw",
      "--tls-verify=false",
      "--creds",
      "alice:wonderland",
      `docker://${target}`,
    ]);
    expect(pushed.out).toBe(`${registry().host}/private/app@${sha256(raw)}\n`);
    expect((await runCli(["ls", `${registry().host}/private/app`], { env })).out).toBe("v1\n");
  });

  it("reports wrong credentials with a hint", async () => {
    const env = isolatedEnv(join(temp(), "wrong-home"));
    await runCli(["auth", "login", registry().host, "-u", "alice", "-p", "nope"], { env });
    const result = await runCli(["digest", `${registry().host}/private/app:v1`], { env });
    expect(expectOneLineError(result)).toMatch(/auth login/);
  });
});

describe("a token-auth docker-registry, credentials from DOCKER_CONFIG", () => {
  const env = useTokenAuthRegistry({
    users: {
      ci: { password: "pw", access: [{ name: "team/*", actions: ["pull", "push", "delete"] }] },
    },
    anonymous: [{ name: "public/*", actions: ["pull"] }],
  });

  it("pushes, copies within the registry and lists with a logged-in user", async () => {
    const home = isolatedEnv(join(temp(), "token-home"));
    const host = env().registry.host;
    expect(
      (await runCli(["auth", "login", host, "-u", "ci", "-p", "pw"], { env: home })).status,
    ).toBe(0);
    const layout = await layoutWith(temp(), "token-image", [testImage("token")]);
    const pushed = await runCli(["push", layout, `${host}/team/app:v1`], { env: home });
    expect(pushed.status, pushed.stderr).toBe(0);
    const copied = await runCli(["cp", `${host}/team/app:v1`, `${host}/team/copy:v1`], {
      env: home,
    });
    expect(copied.status, copied.stderr).toBe(0);
    const raw = await skopeo([
      "inspect",
      "--raw",
      "--tls-verify=false",
      "--creds",
      "ci:pw",
      `docker://${host}/team/copy:v1`,
    ]);
    expect(pushed.out.trim().endsWith(sha256(raw))).toBe(true);
    // The copy asked for pull access to the source next to push on the destination: a mount.
    const scopes = env()
      .tokenServer.requests()
      .flatMap((r) => r.scopes);
    expect(scopes).toContain("repository:team/app:pull");
    expect((await runCli(["ls", `${host}/team/copy`], { env: home })).out).toBe("v1\n");
  });

  it("is refused where the user has no access, in one line", async () => {
    const home = isolatedEnv(join(temp(), "token-home"));
    const layout = await layoutWith(temp(), "token-denied", [testImage("denied")]);
    const result = await runCli(["push", layout, `${env().registry.host}/other/app:v1`], {
      env: home,
    });
    expect(expectOneLineError(result)).toMatch(/other\/app/);
  });
});

describe("registry warnings", () => {
  it("prints each Warning: 299 text once, sorted, after the command", async () => {
    const registry = await startRegistry({
      faults: {
        rules: [
          { route: "tags", headers: { warning: '299 - "this repository is deprecated"' } },
          { route: "ping", headers: { warning: '299 - "a registry-wide notice"' } },
        ],
      },
    });
    try {
      const env = isolatedEnv(join(temp(), "warn-home"));
      const layout = await layoutWith(temp(), "warn-image", [testImage("warn")]);
      expect((await runCli(["push", layout, `${registry.host}/w/app:v1`], { env })).status).toBe(0);
      const result = await runCli(["ls", `${registry.host}/w/app`], { env });
      expect(result.status).toBe(0);
      expect(result.out).toBe("v1\n");
      expect(result.stderr).toBe(
        "[WARNING]: a registry-wide notice\n[WARNING]: this repository is deprecated\n",
      );
    } finally {
      await registry.close();
    }
  });
});
