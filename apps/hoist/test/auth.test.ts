import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { useHtpasswdRegistry, useTokenAuthRegistry } from "@hoist/harness";
import { describe, expect, it } from "vitest";
import {
  expectOneLineError,
  isolatedEnv,
  runCli,
  useTempDir,
  writeDockerConfig,
} from "./helpers.js";

const temp = useTempDir();

describe("auth login, get and logout through DOCKER_CONFIG", () => {
  const home = () => join(temp(), "login");
  const env = () => isolatedEnv(home());
  const config = () => join(home(), ".docker", "config.json");

  it("logs in: stores base64 user:password under the host, logs the file on stderr", async () => {
    const result = await runCli(
      ["auth", "login", "registry.example:5000", "-u", "alice", "-p", "s3cret"],
      {
        env: env(),
      },
    );
    expect(result.status).toBe(0);
    expect(result.out).toBe("");
    expect(result.stderr).toBe(`logged in via ${config()}\n`);
    const stored = JSON.parse(await readFile(config(), "utf8"));
    expect(stored.auths["registry.example:5000"].auth).toBe(
      Buffer.from("alice:s3cret").toString("base64"),
    );
  });

  it("gets the credentials back in the credential-helper format, from an argument or stdin", async () => {
    const byArg = await runCli(["auth", "get", "registry.example:5000"], { env: env() });
    expect(byArg.status).toBe(0);
    expect(byArg.out).toBe('{"Username":"alice","Secret":"s3cret"}\n');
    const byStdin = await runCli(["auth", "get"], { env: env(), stdin: "registry.example:5000\n" });
    expect(byStdin.out).toBe('{"Username":"alice","Secret":"s3cret"}\n');
  });

  it("reads the password from stdin with --password-stdin, trimming the newline", async () => {
    const result = await runCli(
      ["auth", "login", "other.example", "-u", "bob", "--password-stdin"],
      { env: env(), stdin: "from-stdin\r\n" },
    );
    expect(result.status).toBe(0);
    const get = await runCli(["auth", "get", "other.example"], { env: env() });
    expect(get.out).toBe('{"Username":"bob","Secret":"from-stdin"}\n');
  });

  it("answers like a credential helper when nothing is stored: stdout, status 1", async () => {
    const result = await runCli(["auth", "get", "unknown.example"], { env: env() });
    expect(result.status).toBe(1);
    expect(result.out).toBe("credentials not found in native keychain\n");
  });

  it("logs out and forgets", async () => {
    const result = await runCli(["auth", "logout", "registry.example:5000"], { env: env() });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(`logged out via ${config()}\n`);
    const stored = JSON.parse(await readFile(config(), "utf8"));
    expect(stored.auths["registry.example:5000"]).toBeUndefined();
    expect(stored.auths["other.example"]).toBeDefined();
    const get = await runCli(["auth", "get", "registry.example:5000"], { env: env() });
    expect(get.out).toBe("credentials not found in native keychain\n");
  });

  it("prints an identity token as crane does: user <token>, HTML-escaped by Go's encoder", async () => {
    const tokenHome = join(temp(), "identity");
    await writeDockerConfig(tokenHome, {
      auths: { "id.example": { identitytoken: "refresh-me" } },
    });
    const result = await runCli(["auth", "get", "id.example"], { env: isolatedEnv(tokenHome) });
    expect(result.out).toBe('{"Username":"\\u003ctoken\\u003e","Secret":"refresh-me"}\n');
  });

  it("refuses a login without username and password", async () => {
    const result = await runCli(["auth", "login", "x.example"], { env: env() });
    expect(expectOneLineError(result)).toBe("Error: username and password required");
  });

  it("reports a corrupt config file instead of overwriting it", async () => {
    const brokenHome = join(temp(), "broken");
    const path = await writeDockerConfig(brokenHome, {});
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path, "{ not json");
    const result = await runCli(["auth", "login", "x.example", "-u", "a", "-p", "b"], {
      env: isolatedEnv(brokenHome),
    });
    expect(expectOneLineError(result)).toMatch(/config\.json/);
    expect(await readFile(path, "utf8")).toBe("{ not json");
  });
});

describe("cloud keychain plugins, loaded only when their registry is used", () => {
  it("answers for ghcr.io from GITHUB_TOKEN through @hoist/authn-github", async () => {
    const env = isolatedEnv(join(temp(), "github"), {
      GITHUB_TOKEN: "ghp_example",
      GITHUB_ACTOR: "octocat",
    });
    const result = await runCli(["auth", "get", "ghcr.io", "-v"], { env });
    expect(result.status).toBe(0);
    expect(result.out).toBe('{"Username":"octocat","Secret":"ghp_example"}\n');
    expect(result.stderr).toContain("loaded the github keychain from @hoist/authn-github");
    // The executable imports the plugin itself: no experimental vm loader, no warning.
    expect(result.stderr).not.toContain("Warning");
  });

  it("does not load any plugin for other registries", async () => {
    const env = isolatedEnv(join(temp(), "github"), { GITHUB_TOKEN: "ghp_example" });
    const result = await runCli(["auth", "get", "registry.example", "-v"], { env });
    expect(result.out).toBe("credentials not found in native keychain\n");
    expect(result.stderr).not.toContain("keychain from");
  });
});

describe("auth token against a token-auth docker-registry", () => {
  const env = useTokenAuthRegistry({
    users: { alice: { password: "pw", access: [{ name: "team/*", actions: ["pull", "push"] }] } },
  });

  async function loggedIn(name: string) {
    const home = join(temp(), name);
    await writeDockerConfig(home, {
      auths: {
        [env().registry.host]: { auth: Buffer.from("alice:pw").toString("base64") },
      },
    });
    return isolatedEnv(home);
  }

  it("prints an Authorization header without a newline (-H), scoped to the repository", async () => {
    const result = await runCli(
      ["auth", "token", "-H", "--push", `${env().registry.host}/team/app`],
      {
        env: await loggedIn("token-h"),
      },
    );
    expect(result.status).toBe(0);
    expect(result.out).toMatch(/^Authorization: Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const token = result.out.slice("Authorization: Bearer ".length);
    const claims = (await env().tokenServer.verify(token)) as {
      access: { type: string; name: string; actions: string[] }[];
    };
    expect(claims.access.map((a) => ({ ...a, actions: [...a.actions].sort() }))).toEqual([
      { type: "repository", name: "team/app", actions: ["pull", "push"] },
    ]);
  });

  it("prints the token response as JSON, with mount scopes", async () => {
    const result = await runCli(
      [
        "auth",
        "token",
        "-m",
        `${env().registry.host}/team/base`,
        `${env().registry.host}/team/app`,
      ],
      { env: await loggedIn("token-json") },
    );
    expect(result.status).toBe(0);
    const body = JSON.parse(result.out);
    expect(Object.keys(body)).toEqual(["token", "access_token", "refresh_token", "expires_in"]);
    expect(body.expires_in).toBe(300);
    expect(result.out.endsWith("}\n")).toBe(true);
    const last = env().tokenServer.requests().at(-1);
    expect(last?.scopes).toEqual(["repository:team/app:pull", "repository:team/base:pull"]);
  });

  it("fails in one line with a login hint when the password is wrong", async () => {
    const home = join(temp(), "wrong");
    await writeDockerConfig(home, {
      auths: { [env().registry.host]: { auth: Buffer.from("alice:nope").toString("base64") } },
    });
    const result = await runCli(["auth", "token", `${env().registry.host}/team/app`], {
      env: isolatedEnv(home),
    });
    expect(expectOneLineError(result)).toMatch(/hoist auth login/);
  });
});

describe("auth token against a Basic-auth registry", () => {
  const registry = useHtpasswdRegistry({ users: { alice: "pw" } });

  it("says there is no token to get", async () => {
    const result = await runCli(["auth", "token", `${registry().host}/team/app`], {
      env: isolatedEnv(join(temp(), "basic")),
    });
    expect(expectOneLineError(result)).toMatch(/does not use token authentication/);
  });
});
