import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { AuthnError, defaultKeychain, getCredentials, login, logout } from "../src/index.js";
import { b64, helperEnv, registry, tempDir, writeJson, writeStoreHelper } from "./support.js";

const basic = (username: string, password: string) =>
  ({ kind: "basic", username, password }) as const;

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, "utf8"));
}

async function setup(document?: unknown) {
  const home = await tempDir();
  const env: Record<string, string> = { PATH: "/usr/bin:/bin" };
  const configPath = join(home, ".docker/config.json");
  if (document !== undefined) await writeJson(configPath, document);
  return { home, env, configPath, options: { env, homedir: home } };
}

describe("login into auths", () => {
  it("creates ~/.docker/config.json with mode 0600 and a base64 auth, as docker writes it", async () => {
    const { configPath, options, env, home } = await setup();
    const result = await login("reg.example", basic("alice", "s3cret"), options);
    expect(result).toEqual({ configPath, serverAddress: "reg.example" });
    const text = await readFile(configPath, "utf8");
    expect(text).toBe(
      `{\n\t"auths": {\n\t\t"reg.example": {\n\t\t\t"auth": "${b64("alice:s3cret")}"\n\t\t}\n\t}\n}`,
    );
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(configPath))).mode & 0o777).toBe(0o700);
    const auth = await defaultKeychain({ env, homedir: home }).resolve(registry("reg.example"));
    expect(await auth.authorization()).toEqual(basic("alice", "s3cret"));
  });

  it("writes to $DOCKER_CONFIG/config.json when DOCKER_CONFIG is set", async () => {
    const { home, env } = await setup();
    env.DOCKER_CONFIG = join(home, "dc");
    const result = await login("reg.example", basic("a", "b"), { env, homedir: home });
    expect(result.configPath).toBe(join(home, "dc/config.json"));
    expect(existsSync(join(home, ".docker"))).toBe(false);
  });

  it("preserves every other field, unknown ones included, through login and logout", async () => {
    const original = {
      auths: {
        "other.example": {
          auth: b64("bob:pw"),
          email: "bob@example.com",
          "x-note": { keep: [1, 2] },
        },
      },
      HttpHeaders: { "X-Meta": "1" },
      psFormat: "table {{.ID}}",
      credHelpers: { "gcr.io": "gcloud" },
      currentContext: "remote",
      plugins: { buildx: { default: "x" } },
      "x-unknown-tool": { nested: { deeply: true }, list: ["a", null, 3.5] },
    };
    const { configPath, options } = await setup(original);
    await login("reg.example", basic("alice", "pw"), options);
    const after = await readJson(configPath);
    expect(after).toEqual({
      ...original,
      auths: { ...original.auths, "reg.example": { auth: b64("alice:pw") } },
    });
    await logout("reg.example", options);
    expect(await readJson(configPath)).toEqual(original);
  });

  it("keeps an entry's email and unknown fields but replaces all its credential fields", async () => {
    const { configPath, options } = await setup({
      auths: {
        "reg.example": {
          auth: b64("old:old"),
          username: "old",
          password: "old",
          identitytoken: "old",
          registrytoken: "old",
          email: "me@example.com",
          custom: 1,
        },
      },
    });
    await login("reg.example", basic("new", "pw"), options);
    expect((await readJson(configPath)).auths).toEqual({
      "reg.example": { email: "me@example.com", custom: 1, auth: b64("new:pw") },
    });
  });

  it.each([
    ["docker.io", "https://index.docker.io/v1/"],
    ["index.docker.io", "https://index.docker.io/v1/"],
    ["registry-1.docker.io", "https://index.docker.io/v1/"],
    ["https://index.docker.io/v1/", "https://index.docker.io/v1/"],
    ["https://reg.example:5000/v2/", "reg.example:5000"],
    ["http://127.0.0.1:5000", "127.0.0.1:5000"],
    ["  ghcr.io  ", "ghcr.io"],
  ])("stores %s under %s", async (server, key) => {
    const { configPath, options } = await setup();
    expect((await login(server, basic("u", "p"), options)).serverAddress).toBe(key);
    expect(Object.keys((await readJson(configPath)).auths as object)).toEqual([key]);
  });

  it("stores identity and registry tokens in their own fields", async () => {
    const { configPath, options } = await setup();
    await login(
      "acr.example",
      {
        kind: "identity-token",
        token: "refresh",
        username: "00000000-0000-0000-0000-000000000000",
      },
      options,
    );
    await login("tok.example", { kind: "registry-token", token: "bearer" }, options);
    expect((await readJson(configPath)).auths).toEqual({
      "acr.example": {
        auth: b64("00000000-0000-0000-0000-000000000000:"),
        identitytoken: "refresh",
      },
      "tok.example": { registrytoken: "bearer" },
    });
    expect(await getCredentials("acr.example", options)).toEqual({
      serverURL: "acr.example",
      username: "<token>",
      secret: "refresh",
    });
  });

  it("keeps both of two concurrent logins to one file", async () => {
    const { configPath, options } = await setup();
    await Promise.all(
      ["a.example", "b.example", "c.example"].map((host) =>
        login(host, basic(host, "pw"), options),
      ),
    );
    expect(Object.keys((await readJson(configPath)).auths as object).sort()).toEqual([
      "a.example",
      "b.example",
      "c.example",
    ]);
  });

  it("sets mode 0600 on a file that was more open", async () => {
    const { configPath, options } = await setup({ auths: {} });
    const { chmod } = await import("node:fs/promises");
    await chmod(configPath, 0o644);
    await login("reg.example", basic("u", "p"), options);
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
  });

  it("writes through a symlinked config.json and keeps the symlink", async () => {
    const { home, configPath, options } = await setup();
    const real = await writeJson(join(home, "dotfiles/docker.json"), { auths: {} });
    await mkdir(dirname(configPath), { recursive: true });
    await symlink(real, configPath);
    await login("reg.example", basic("u", "p"), options);
    expect((await lstat(configPath)).isSymbolicLink()).toBe(true);
    expect(Object.keys((await readJson(real)).auths as object)).toEqual(["reg.example"]);
  });

  it("does not rewrite the file when nothing changes", async () => {
    const text = '{ "auths": { "other.example": {} } }';
    const { configPath, options } = await setup(text);
    const before = await stat(configPath);
    const result = await logout("reg.example", options);
    expect(result.removed).toBe(false);
    expect(await readFile(configPath, "utf8")).toBe(text);
    expect((await stat(configPath)).ino).toBe(before.ino);
  });
});

describe("logout", () => {
  it("removes every auths key for the registry, with or without scheme, and nothing else", async () => {
    const { configPath, options } = await setup({
      auths: {
        "reg.example": { auth: b64("a:b") },
        "https://reg.example": { auth: b64("a:b") },
        "http://reg.example/v1/": { auth: b64("a:b") },
        "reg.example/team/app": { auth: b64("repo:b") },
        "reg.example:5000": { auth: b64("port:b") },
      },
    });
    const result = await logout("reg.example", options);
    expect(result).toEqual({ configPath, serverAddress: "reg.example", removed: true });
    expect(Object.keys((await readJson(configPath)).auths as object)).toEqual([
      "reg.example/team/app",
      "reg.example:5000",
    ]);
  });

  it("removes Docker Hub under all its names", async () => {
    const { configPath, options } = await setup({
      auths: {
        "https://index.docker.io/v1/": { auth: b64("a:b") },
        "docker.io": { auth: b64("a:b") },
        "index.docker.io": { auth: b64("a:b") },
        "registry-1.docker.io": { auth: b64("a:b") },
        "ghcr.io": { auth: b64("a:b") },
      },
    });
    await logout("docker.io", options);
    expect(Object.keys((await readJson(configPath)).auths as object)).toEqual(["ghcr.io"]);
  });

  it("is a no-op without a config file", async () => {
    const { configPath, options } = await setup();
    expect(await logout("reg.example", options)).toEqual({
      configPath,
      serverAddress: "reg.example",
      removed: false,
    });
    expect(existsSync(configPath)).toBe(false);
  });
});

describe("login and logout through credential helpers", () => {
  it("stores in credsStore, leaves an empty auths entry, and erases on logout", async () => {
    const { home, configPath, env } = await setup({ credsStore: "files" });
    const bin = join(home, "bin");
    const store = join(home, "store");
    await writeStoreHelper(bin, "files", store);
    Object.assign(env, helperEnv(bin));
    const options = { env, homedir: home };

    expect(await login("docker.io", basic("hubuser", "hubpw"), options)).toEqual({
      configPath,
      serverAddress: "https://index.docker.io/v1/",
      helper: "files",
    });
    expect(await readJson(configPath)).toEqual({
      credsStore: "files",
      auths: { "https://index.docker.io/v1/": {} },
    });
    expect(await readFile(configPath, "utf8")).not.toContain("hubpw");
    const auth = await defaultKeychain(options).resolve(registry("index.docker.io"));
    expect(await auth.authorization()).toEqual(basic("hubuser", "hubpw"));

    expect(await logout("docker.io", options)).toMatchObject({ removed: true, helper: "files" });
    expect(await readJson(configPath)).toEqual({ credsStore: "files", auths: {} });
    expect(await getCredentials("docker.io", options)).toBeUndefined();
    const calls = (await readFile(join(store, "calls.log"), "utf8")).split("\n");
    expect(calls).toContain("erase https://index.docker.io/v1/");
  });

  it("uses credHelpers for its registry and plain auths for others", async () => {
    const { home, configPath, env } = await setup({ credHelpers: { "secure.example": "files" } });
    const bin = join(home, "bin");
    await writeStoreHelper(bin, "files", join(home, "store"));
    Object.assign(env, helperEnv(bin));
    const options = { env, homedir: home };
    expect(
      (await login("secure.example", { kind: "identity-token", token: "rt" }, options)).helper,
    ).toBe("files");
    await login("plain.example", basic("p", "q"), options);
    expect((await readJson(configPath)).auths).toEqual({
      "secure.example": {},
      "plain.example": { auth: b64("p:q") },
    });
    expect(await getCredentials("secure.example", options)).toEqual({
      serverURL: "secure.example",
      username: "<token>",
      secret: "rt",
    });
  });

  it("refuses to push a registry token through a helper and leaves the file alone", async () => {
    const text = JSON.stringify({ credsStore: "files" });
    const { configPath, options } = await setup(text);
    const error = await login("reg.example", { kind: "registry-token", token: "t" }, options).catch(
      (e) => e,
    );
    expect(error).toMatchObject({ code: "HOIST_AUTHN_INVALID_ARGUMENT" });
    expect(await readFile(configPath, "utf8")).toBe(text);
  });

  it("reports a failing helper and leaves the file alone", async () => {
    const text = JSON.stringify({ credsStore: "absent" });
    const { configPath, options } = await setup(text);
    const error = await login("reg.example", basic("u", "p"), options).catch((e) => e);
    expect(error).toMatchObject({
      code: "HOIST_AUTHN_HELPER_NOT_FOUND",
      helper: "docker-credential-absent",
    });
    expect(await readFile(configPath, "utf8")).toBe(text);
  });
});

describe("bad input", () => {
  it.each([
    ["a corrupt file", `{"auths": {"reg.example": {"auth": "${b64("u:p")}"},}`],
    ["a wrong field type", JSON.stringify({ auths: { "reg.example": { auth: 5 } } })],
    ["an undecodable auth", JSON.stringify({ auths: { "reg.example": { auth: "%%%" } } })],
  ])("never overwrites %s", async (_, text) => {
    const { configPath, options } = await setup(text);
    for (const attempt of [
      () => login("reg.example", basic("u", "p"), options),
      () => logout("reg.example", options),
    ]) {
      const error = await attempt().catch((e) => e);
      expect(AuthnError.is(error)).toBe(true);
      expect(error).toMatchObject({ code: "HOIST_AUTHN_CONFIG_INVALID", path: configPath });
      expect(error.message).toContain(configPath);
    }
    expect(await readFile(configPath, "utf8")).toBe(text);
    expect(await readdir(dirname(configPath))).toEqual(["config.json"]);
  });

  it("reports a directory where the config file should be", async () => {
    const { configPath, options } = await setup();
    await mkdir(configPath, { recursive: true });
    const error = await login("reg.example", basic("u", "p"), options).catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_CONFIG_UNREADABLE" });
  });

  it.each(["", "   ", "bad host!", "reg example"])(
    "rejects the server address %j",
    async (server) => {
      const { options } = await setup();
      const error = await login(server, basic("u", "p"), options).catch((e) => e);
      expect(error).toMatchObject({ code: "HOIST_AUTHN_INVALID_ARGUMENT" });
      await expect(logout(server, options)).rejects.toMatchObject({
        code: "HOIST_AUTHN_INVALID_ARGUMENT",
      });
    },
  );

  it.each([
    [basic("", "p"), /username is required/],
    [basic("a:b", "p"), /may not contain ':'/],
    [{ kind: "identity-token", token: "" } as const, /token is empty/],
  ])("rejects the credential %o", async (credential, message) => {
    const { options } = await setup();
    await expect(login("reg.example", credential, options)).rejects.toThrow(message);
  });
});

describe("a login killed mid-write", () => {
  const dist = resolve(dirname(fileURLToPath(import.meta.url)), "../dist/index.js");

  it("leaves the previous file intact (temp file, fsync, rename)", async () => {
    expect(existsSync(dist), "build the package first (turbo runs build before test)").toBe(true);
    const original = JSON.stringify(
      { auths: { "reg.example": { auth: b64("old:pw") } }, extra: true },
      null,
      2,
    );
    const { home, configPath } = await setup(original);
    // The child pauses inside the temp file's fsync, after the new content is written and
    // before the rename, and is killed there.
    const preload = join(home, "pause-in-fsync.mjs");
    await writeFile(
      preload,
      `import { open } from "node:fs/promises";
const probe = await open(${JSON.stringify(preload)}, "r");
const proto = Object.getPrototypeOf(probe);
await probe.close();
proto.sync = function () {
  setInterval(() => {}, 1000);
  process.stdout.write("paused\\n");
  return new Promise(() => {});
};`,
    );
    const script = `import { login } from ${JSON.stringify(pathToFileURL(dist).href)};
await login("reg.example", { kind: "basic", username: "new", password: "pw" }, { configPath: ${JSON.stringify(configPath)} });
process.stdout.write("finished\\n");`;
    const child = spawn(
      process.execPath,
      ["--import", pathToFileURL(preload).href, "--input-type=module", "-e", script],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const said = await new Promise<string>((done) => {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        if (out.includes("paused") || out.includes("finished")) done(out);
      });
      child.on("exit", () => done(out));
    });
    expect(said).toContain("paused");
    child.kill("SIGKILL");
    await new Promise((done) => child.on("exit", done));

    expect(await readFile(configPath, "utf8")).toBe(original);
    const leftovers = (await readdir(dirname(configPath))).filter((name) => name !== "config.json");
    expect(leftovers).toHaveLength(1);
    // The interrupted write had the new content, in a temp file beside the target.
    const temp = await readFile(join(dirname(configPath), leftovers[0] as string), "utf8");
    expect(JSON.parse(temp).auths["reg.example"].auth).toBe(b64("new:pw"));
    // And a fresh login still works and replaces the file.
    await login("reg.example", basic("again", "pw"), { configPath });
    expect((await readJson(configPath)).auths).toEqual({
      "reg.example": { auth: b64("again:pw") },
    });
  });
});
