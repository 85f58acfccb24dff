import { mkdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AuthnError,
  anonymous,
  type Credential,
  configFileKeychain,
  credentialFiles,
  defaultKeychain,
  findCredential,
  type Resource,
} from "../src/index.js";
import {
  b64,
  helperEnv,
  registry,
  repository,
  tempDir,
  writeHelper,
  writeJson,
  writeStoreHelper,
} from "./support.js";

interface Home {
  home: string;
  env: Record<string, string>;
}

async function home(extraEnv: Record<string, string> = {}): Promise<Home> {
  const dir = await tempDir();
  return { home: dir, env: { PATH: "/usr/bin:/bin", ...extraEnv } };
}

async function credentialFor(h: Home, resource: Resource): Promise<Credential> {
  const auth = await defaultKeychain({ env: h.env, homedir: h.home }).resolve(resource);
  return auth.authorization();
}

const basicCred = (username: string, password: string): Credential => ({
  kind: "basic",
  username,
  password,
});

describe("defaultKeychain with no configuration", () => {
  it("is anonymous (the anonymous singleton) when no file exists", async () => {
    const h = await home();
    const auth = await defaultKeychain({ env: h.env, homedir: h.home }).resolve(
      registry("ghcr.io"),
    );
    expect(auth).toBe(anonymous);
  });

  it("lists the files it reads, in order", async () => {
    expect(
      credentialFiles({
        env: { XDG_RUNTIME_DIR: "/run/user/1000" },
        homedir: "/home/me",
      }).map((f) => `${f.kind}:${f.path}`),
    ).toEqual([
      "docker:/home/me/.docker/config.json",
      "containers:/run/user/1000/containers/auth.json",
      "containers:/home/me/.config/containers/auth.json",
      "legacy:/home/me/.dockercfg",
    ]);
    expect(
      credentialFiles({
        env: {
          DOCKER_CONFIG: "/etc/dk",
          REGISTRY_AUTH_FILE: "/etc/auth.json",
          XDG_RUNTIME_DIR: "/run/user/1000",
          XDG_CONFIG_HOME: "/cfg",
        },
        homedir: "/home/me",
      }).map((f) => f.path),
    ).toEqual([
      "/etc/dk/config.json",
      "/etc/auth.json",
      "/cfg/containers/auth.json",
      "/home/me/.dockercfg",
    ]);
  });
});

describe("docker config.json `auths` lookup", () => {
  const cases: Array<{
    title: string;
    auths: Record<string, unknown>;
    resource: Resource;
    want: Credential | "anonymous";
  }> = [
    {
      title: "a bare host key with base64 auth",
      auths: { "reg.example": { auth: b64("alice:s3cret") } },
      resource: registry("reg.example"),
      want: basicCred("alice", "s3cret"),
    },
    {
      title: "a password containing colons (split on the first one)",
      auths: { "reg.example": { auth: b64("alice:a:b:c") } },
      resource: registry("reg.example"),
      want: basicCred("alice", "a:b:c"),
    },
    {
      title: "unpadded base64 auth",
      auths: { "reg.example": { auth: b64("al:pw").replace(/=+$/, "") } },
      resource: registry("reg.example"),
      want: basicCred("al", "pw"),
    },
    {
      title: "a key with scheme, port and /v2/ path",
      auths: { "https://reg.example:5000/v2/": { auth: b64("bob:pw") } },
      resource: registry("reg.example:5000"),
      want: basicCred("bob", "pw"),
    },
    {
      title: "an http:// key",
      auths: { "http://127.0.0.1:5000": { auth: b64("bob:pw") } },
      resource: registry("127.0.0.1:5000"),
      want: basicCred("bob", "pw"),
    },
    {
      title: "a key on another port does not match",
      auths: { "reg.example:5001": { auth: b64("bob:pw") } },
      resource: registry("reg.example:5000"),
      want: "anonymous",
    },
    {
      title: "a key that merely starts with the host does not match",
      auths: { "reg.example.evil": { auth: b64("bob:pw") } },
      resource: registry("reg.example"),
      want: "anonymous",
    },
    {
      title: "username and password fields without auth",
      auths: { "reg.example": { username: "carol", password: "pw" } },
      resource: registry("reg.example"),
      want: basicCred("carol", "pw"),
    },
    {
      title: "auth overriding username and password fields",
      auths: { "reg.example": { auth: b64("dave:new"), username: "old", password: "old" } },
      resource: registry("reg.example"),
      want: basicCred("dave", "new"),
    },
    {
      title: "an identitytoken (with the username from auth)",
      auths: {
        "myreg.azurecr.io": {
          auth: b64("00000000-0000-0000-0000-000000000000:"),
          identitytoken: "refresh",
        },
      },
      resource: registry("myreg.azurecr.io"),
      want: {
        kind: "identity-token",
        token: "refresh",
        username: "00000000-0000-0000-0000-000000000000",
      },
    },
    {
      title: "a registrytoken",
      auths: { "reg.example": { registrytoken: "bearer-token" } },
      resource: registry("reg.example"),
      want: { kind: "registry-token", token: "bearer-token" },
    },
    {
      title: "an entry with only an email",
      auths: { "reg.example": { email: "me@example.com" } },
      resource: registry("reg.example"),
      want: "anonymous",
    },
    {
      title: "a repository-scoped key before the registry key",
      auths: {
        "reg.example": { auth: b64("reg:pw") },
        "reg.example/team/app": { auth: b64("repo:pw") },
      },
      resource: repository("reg.example", "team/app"),
      want: basicCred("repo", "pw"),
    },
    {
      title: "a namespace key for a repository below it",
      auths: { "reg.example": { auth: b64("reg:pw") }, "reg.example/team": { auth: b64("ns:pw") } },
      resource: repository("reg.example", "team/app/sub"),
      want: basicCred("ns", "pw"),
    },
    {
      title: "a repository key does not apply to a sibling repository",
      auths: {
        "reg.example": { auth: b64("reg:pw") },
        "reg.example/team/app": { auth: b64("repo:pw") },
      },
      resource: repository("reg.example", "team/other"),
      want: basicCred("reg", "pw"),
    },
    {
      title: "an empty repository entry falls through to the registry",
      auths: { "reg.example/team/app": {}, "reg.example": { auth: b64("reg:pw") } },
      resource: repository("reg.example", "team/app"),
      want: basicCred("reg", "pw"),
    },
  ];

  it.each(cases)("$title", async ({ auths, resource, want }) => {
    const h = await home();
    await writeJson(join(h.home, ".docker/config.json"), { auths });
    expect(await credentialFor(h, resource)).toEqual(
      want === "anonymous" ? { kind: "anonymous" } : want,
    );
  });

  describe.each([
    "https://index.docker.io/v1/",
    "https://index.docker.io/v1",
    "index.docker.io",
    "docker.io",
    "registry-1.docker.io",
    "https://registry-1.docker.io/v2/",
  ])("Docker Hub stored as %s", (key) => {
    it.each([
      ["the registry", registry("index.docker.io")],
      ["a repository", repository("index.docker.io", "library/ubuntu")],
    ])("matches %s", async (_, resource) => {
      const h = await home();
      await writeJson(join(h.home, ".docker/config.json"), {
        auths: { [key]: { auth: b64("hubuser:hubpw") } },
      });
      expect(await credentialFor(h, resource)).toEqual(basicCred("hubuser", "hubpw"));
    });
  });

  it("prefers Docker Hub's canonical v1 key over its other spellings", async () => {
    const h = await home();
    await writeJson(join(h.home, ".docker/config.json"), {
      auths: {
        "docker.io": { auth: b64("alias:pw") },
        "https://index.docker.io/v1/": { auth: b64("canonical:pw") },
      },
    });
    expect(await credentialFor(h, registry("index.docker.io"))).toEqual(
      basicCred("canonical", "pw"),
    );
  });

  it("matches docker.io/<repo> keys (podman's spelling) for Docker Hub repositories", async () => {
    const h = await home();
    await writeJson(join(h.home, ".docker/config.json"), {
      auths: {
        "docker.io/library/ubuntu": { auth: b64("repo:pw") },
        "docker.io": { auth: b64("hub:pw") },
      },
    });
    expect(await credentialFor(h, repository("index.docker.io", "library/ubuntu"))).toEqual(
      basicCred("repo", "pw"),
    );
    expect(await credentialFor(h, repository("index.docker.io", "library/debian"))).toEqual(
      basicCred("hub", "pw"),
    );
  });

  it("reads the file anew on every resolve", async () => {
    const h = await home();
    const keychain = defaultKeychain({ env: h.env, homedir: h.home });
    expect(await keychain.resolve(registry("reg.example"))).toBe(anonymous);
    await writeJson(join(h.home, ".docker/config.json"), {
      auths: { "reg.example": { auth: b64("late:pw") } },
    });
    expect(await (await keychain.resolve(registry("reg.example"))).authorization()).toEqual(
      basicCred("late", "pw"),
    );
  });

  it("reads an empty file as an empty config, as docker does", async () => {
    const h = await home();
    await writeJson(join(h.home, ".docker/config.json"), "");
    expect(await credentialFor(h, registry("reg.example"))).toEqual({ kind: "anonymous" });
  });

  it("skips a config.json that is a directory (an optional Kubernetes secret mount)", async () => {
    const h = await home();
    await mkdir(join(h.home, ".docker/config.json"), { recursive: true });
    await writeJson(join(h.home, ".config/containers/auth.json"), {
      auths: { "reg.example": { auth: b64("podman:pw") } },
    });
    expect(await credentialFor(h, registry("reg.example"))).toEqual(basicCred("podman", "pw"));
  });
});

describe("file locations and order", () => {
  it("uses $DOCKER_CONFIG/config.json instead of ~/.docker/config.json", async () => {
    const h = await home();
    const dockerConfig = join(h.home, "elsewhere");
    h.env.DOCKER_CONFIG = dockerConfig;
    await writeJson(join(h.home, ".docker/config.json"), {
      auths: { "reg.example": { auth: b64("home:pw") } },
    });
    await writeJson(join(dockerConfig, "config.json"), {
      auths: { "reg.example": { auth: b64("env:pw") } },
    });
    expect(await credentialFor(h, registry("reg.example"))).toEqual(basicCred("env", "pw"));
    // ~/.docker is not a fallback once DOCKER_CONFIG is set: docker never reads it then.
    expect(await credentialFor(h, registry("other.example"))).toEqual({ kind: "anonymous" });
  });

  it("falls back from docker's config to $REGISTRY_AUTH_FILE for registries docker has nothing for", async () => {
    const h = await home();
    h.env.REGISTRY_AUTH_FILE = join(h.home, "auth.json");
    await writeJson(join(h.home, ".docker/config.json"), {
      auths: { "a.example": { auth: b64("docker:pw") } },
    });
    await writeJson(h.env.REGISTRY_AUTH_FILE, {
      auths: { "a.example": { auth: b64("podman:pw") }, "b.example": { auth: b64("podman:pw") } },
    });
    expect(await credentialFor(h, registry("a.example"))).toEqual(basicCred("docker", "pw"));
    expect(await credentialFor(h, registry("b.example"))).toEqual(basicCred("podman", "pw"));
  });

  it("reads $XDG_RUNTIME_DIR/containers/auth.json, then ~/.config/containers/auth.json", async () => {
    const h = await home();
    h.env.XDG_RUNTIME_DIR = join(h.home, "run");
    await writeJson(join(h.home, "run/containers/auth.json"), {
      auths: { "a.example": { auth: b64("runtime:pw") } },
    });
    await writeJson(join(h.home, ".config/containers/auth.json"), {
      auths: { "a.example": { auth: b64("config:pw") }, "b.example": { auth: b64("config:pw") } },
    });
    expect(await credentialFor(h, registry("a.example"))).toEqual(basicCred("runtime", "pw"));
    expect(await credentialFor(h, registry("b.example"))).toEqual(basicCred("config", "pw"));
  });

  it("lets $REGISTRY_AUTH_FILE replace the runtime auth file, as podman does", async () => {
    const h = await home();
    h.env.XDG_RUNTIME_DIR = join(h.home, "run");
    h.env.REGISTRY_AUTH_FILE = join(h.home, "auth.json");
    await writeJson(join(h.home, "run/containers/auth.json"), {
      auths: { "a.example": { auth: b64("runtime:pw") } },
    });
    await writeJson(h.env.REGISTRY_AUTH_FILE, { auths: {} });
    expect(await credentialFor(h, registry("a.example"))).toEqual({ kind: "anonymous" });
  });

  it("honours $XDG_CONFIG_HOME", async () => {
    const h = await home();
    h.env.XDG_CONFIG_HOME = join(h.home, "xdg");
    await writeJson(join(h.home, "xdg/containers/auth.json"), {
      auths: { "a.example": { auth: b64("xdg:pw") } },
    });
    expect(await credentialFor(h, registry("a.example"))).toEqual(basicCred("xdg", "pw"));
  });

  it("reads the legacy ~/.dockercfg map", async () => {
    const h = await home();
    await writeJson(join(h.home, ".dockercfg"), {
      "https://index.docker.io/v1/": { auth: b64("legacy:pw"), email: "me@example.com" },
      "https://quay.io": { auth: b64("quay:pw") },
    });
    expect(await credentialFor(h, registry("index.docker.io"))).toEqual(basicCred("legacy", "pw"));
    expect(await credentialFor(h, repository("quay.io", "org/app"))).toEqual(
      basicCred("quay", "pw"),
    );
  });

  it("reads the ancient ~/.dockercfg text form for Docker Hub", async () => {
    const h = await home();
    await writeJson(
      join(h.home, ".dockercfg"),
      `auth = ${b64("ancient:pw")}\nemail = me@example.com\n`,
    );
    expect(await credentialFor(h, registry("index.docker.io"))).toEqual(basicCred("ancient", "pw"));
  });

  it("says which file and key a credential came from", async () => {
    const h = await home();
    const path = await writeJson(join(h.home, ".config/containers/auth.json"), {
      auths: { "https://a.example/v1/": { auth: b64("x:pw") } },
    });
    expect(await findCredential(registry("a.example"), { env: h.env, homedir: h.home })).toEqual({
      source: path,
      key: "https://a.example/v1/",
      credential: basicCred("x", "pw"),
    });
  });

  it("reads a config.json reached through a symlink", async () => {
    const h = await home();
    const real = await writeJson(join(h.home, "dotfiles/docker.json"), {
      auths: { "a.example": { auth: b64("ln:pw") } },
    });
    await mkdir(join(h.home, ".docker"));
    await symlink(real, join(h.home, ".docker/config.json"));
    expect(await credentialFor(h, registry("a.example"))).toEqual(basicCred("ln", "pw"));
  });
});

describe("DOCKER_AUTH_CONFIG", () => {
  it("is consulted before the files", async () => {
    const h = await home({
      DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { "a.example": { auth: b64("env:pw") } } }),
    });
    await writeJson(join(h.home, ".docker/config.json"), {
      auths: { "a.example": { auth: b64("file:pw") }, "b.example": { auth: b64("file:pw") } },
    });
    expect(await credentialFor(h, registry("a.example"))).toEqual(basicCred("env", "pw"));
    expect(await credentialFor(h, registry("b.example"))).toEqual(basicCred("file", "pw"));
  });

  it.each([
    ["an unknown field", { auths: { "a.example": { auth: b64("u:p"), email: "x" } } }],
    ["an entry without auth", { auths: { "a.example": {} } }],
    ["not JSON", "{auths"],
  ])("rejects %s with a clear error that does not quote it", async (_, value) => {
    const h = await home({
      DOCKER_AUTH_CONFIG: typeof value === "string" ? value : JSON.stringify(value),
    });
    const error = await defaultKeychain({ env: h.env, homedir: h.home })
      .resolve(registry("a.example"))
      .catch((e) => e);
    expect(AuthnError.is(error)).toBe(true);
    expect(error.code).toBe("HOIST_AUTHN_CONFIG_INVALID");
    expect(error.message).toContain("DOCKER_AUTH_CONFIG");
    expect(error.message).not.toContain(b64("u:p"));
  });
});

describe("broken files", () => {
  it("reports malformed JSON with its location, without quoting the file", async () => {
    const h = await home();
    const path = await writeJson(
      join(h.home, ".docker/config.json"),
      `{\n  "auths": {\n    "a.example": { "auth": "${b64("user:topsecret")}" }\n  ,\n}`,
    );
    const error = await defaultKeychain({ env: h.env, homedir: h.home })
      .resolve(registry("a.example"))
      .catch((e) => e);
    expect(AuthnError.is(error)).toBe(true);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_CONFIG_INVALID", path });
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/line \d+, column \d+/);
    expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).not.toContain(
      b64("user:topsecret"),
    );
  });

  it.each([
    ["auths is a list", { auths: [] }, "auths"],
    [
      "an auth that is a number",
      { auths: { "a.example": { auth: 42 } } },
      'auths["a.example"].auth',
    ],
    [
      "credHelpers with a non-string helper",
      { credHelpers: { "a.example": true } },
      'credHelpers["a.example"]',
    ],
    ["credsStore that is an object", { credsStore: {} }, "credsStore"],
    ["a document that is an array", [], "not a JSON object"],
  ])("names the bad field when %s", async (_, document, field) => {
    const h = await home();
    await writeJson(join(h.home, ".docker/config.json"), document);
    const error = await defaultKeychain({ env: h.env, homedir: h.home })
      .resolve(registry("a.example"))
      .catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_CONFIG_INVALID" });
    expect(error.message).toContain(field);
  });

  it.each([
    ["not base64", "!!!not-base64!!!"],
    ["base64 without a colon", b64("nocolon")],
    ["base64 with an empty username", b64(":password")],
  ])("rejects an auth field that is %s, naming the key and not the value", async (_, auth) => {
    const h = await home();
    await writeJson(join(h.home, ".docker/config.json"), { auths: { "a.example": { auth } } });
    const error = await defaultKeychain({ env: h.env, homedir: h.home })
      .resolve(registry("b.example"))
      .catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_CONFIG_INVALID" });
    expect(error.message).toContain('"a.example"');
    expect(error.message).not.toContain(auth);
  });

  it("reports a config that cannot be read", async () => {
    const h = await home();
    await mkdir(join(h.home, ".docker"));
    // A symlink loop fails to open even for root, unlike a permission bit.
    await symlink("config.json", join(h.home, ".docker/config.json"));
    const error = await defaultKeychain({ env: h.env, homedir: h.home })
      .resolve(registry("a.example"))
      .catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_CONFIG_UNREADABLE" });
    expect(error.message).toContain("ELOOP");
  });
});

describe("credential helpers configured in config.json", () => {
  it("asks credHelpers[registry] with the bare host and ignores plain auths for it", async () => {
    const h = await home();
    const bin = join(h.home, "bin");
    await writeStoreHelper(bin, "vault", join(h.home, "vault"));
    await writeHelper(
      bin,
      "fixed",
      `input=$(cat); echo "$1 $input" >> "${h.home}/fixed.log"; printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$input"`,
    );
    Object.assign(h.env, helperEnv(bin));
    await writeJson(join(h.home, ".docker/config.json"), {
      auths: { "gcr.io": { auth: b64("plain:ignored") } },
      credHelpers: { "gcr.io": "fixed" },
    });
    expect(await credentialFor(h, repository("gcr.io", "proj/img"))).toEqual(
      basicCred("helper-user", "helper-secret"),
    );
    // The repository key is looked up in auths first (no helper for it), then the helper for the registry.
    expect(await readFile(join(h.home, "fixed.log"), "utf8")).toBe("get gcr.io\n");
  });

  it("asks credsStore with the repository key first, then Docker Hub's v1 key", async () => {
    const h = await home();
    const bin = join(h.home, "bin");
    await writeStoreHelper(bin, "store", join(h.home, "store"));
    Object.assign(h.env, helperEnv(bin));
    await writeJson(join(h.home, ".docker/config.json"), {
      auths: { "https://index.docker.io/v1/": {} },
      credsStore: "store",
    });
    expect(await credentialFor(h, repository("index.docker.io", "library/ubuntu"))).toEqual({
      kind: "anonymous",
    });
    expect(await readFile(join(h.home, "store/calls.log"), "utf8")).toBe(
      "get index.docker.io/library/ubuntu\nget https://index.docker.io/v1/\n",
    );
  });

  it("turns a helper's <token> username into an identity token", async () => {
    const h = await home();
    const bin = join(h.home, "bin");
    await writeHelper(
      bin,
      "acr",
      `printf '{"ServerURL":"x","Username":"<token>","Secret":"refresh-token"}'`,
    );
    Object.assign(h.env, helperEnv(bin));
    await writeJson(join(h.home, ".docker/config.json"), {
      credHelpers: { "myreg.azurecr.io": "acr" },
    });
    expect(await credentialFor(h, registry("myreg.azurecr.io"))).toEqual({
      kind: "identity-token",
      token: "refresh-token",
    });
  });

  it("treats 'credentials not found' as no credentials and moves on to the next file", async () => {
    const h = await home();
    const bin = join(h.home, "bin");
    await writeStoreHelper(bin, "empty", join(h.home, "empty"));
    Object.assign(h.env, helperEnv(bin));
    await writeJson(join(h.home, ".docker/config.json"), { credsStore: "empty" });
    await writeJson(join(h.home, ".config/containers/auth.json"), {
      auths: { "a.example": { auth: b64("podman:pw") } },
    });
    expect(await credentialFor(h, registry("a.example"))).toEqual(basicCred("podman", "pw"));
  });

  it("fails, naming the helper, when the configured helper is missing", async () => {
    const h = await home();
    await writeJson(join(h.home, ".docker/config.json"), { credsStore: "desktop" });
    const error = await defaultKeychain({ env: h.env, homedir: h.home })
      .resolve(registry("a.example"))
      .catch((e) => e);
    expect(error).toMatchObject({
      code: "HOIST_AUTHN_HELPER_NOT_FOUND",
      helper: "docker-credential-desktop",
    });
  });

  it("never runs a helper name through a shell", async () => {
    const h = await home();
    const marker = `hoist-pwned-${process.pid}`;
    await writeJson(join(h.home, ".docker/config.json"), {
      credHelpers: { "a.example": `x; touch ${marker}` },
    });
    const error = await defaultKeychain({ env: h.env, homedir: h.home })
      .resolve(registry("a.example"))
      .catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_HELPER_NOT_FOUND" });
    await expect(readFile(marker)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses a helper name that is a path", async () => {
    const h = await home();
    await writeJson(join(h.home, ".docker/config.json"), { credsStore: "../../tmp/evil" });
    const error = await defaultKeychain({ env: h.env, homedir: h.home })
      .resolve(registry("a.example"))
      .catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_INVALID_ARGUMENT" });
  });

  it("serves one file through configFileKeychain", async () => {
    const h = await home();
    const path = await writeJson(join(h.home, "custom.json"), {
      auths: { "a.example": { auth: b64("one:pw") } },
    });
    const keychain = configFileKeychain({ path });
    expect(keychain.name).toBe(`config-file:${path}`);
    expect(await (await keychain.resolve(registry("a.example"))).authorization()).toEqual(
      basicCred("one", "pw"),
    );
    expect(await keychain.resolve(registry("b.example"))).toBe(anonymous);
  });
});

describe("with @hoist/name references", () => {
  it("resolves Registry, Repository and a Tag's repository as parsed by @hoist/name", async () => {
    const { Registry, Repository, Tag } = await import("@hoist/name");
    const h = await home();
    await writeJson(join(h.home, ".docker/config.json"), {
      auths: {
        "https://index.docker.io/v1/": { auth: b64("hub:pw") },
        "reg.example:5000/team": { auth: b64("team:pw") },
        "https://Reg.Example:5000": { auth: b64("reg:pw") },
      },
    });
    expect(await credentialFor(h, Registry.parse("docker.io"))).toEqual(basicCred("hub", "pw"));
    expect(await credentialFor(h, Repository.parse("ubuntu"))).toEqual(basicCred("hub", "pw"));
    expect(await credentialFor(h, Tag.parse("reg.example:5000/team/app:1.0").context)).toEqual(
      basicCred("team", "pw"),
    );
    expect(await credentialFor(h, Tag.parse("reg.example:5000/other/app:1.0").context)).toEqual(
      basicCred("reg", "pw"),
    );
    expect(await credentialFor(h, Registry.parse("Reg.Example:5000"))).toEqual(
      basicCred("reg", "pw"),
    );
  });

  it("lets a key with a path serve its whole registry when nothing else does, as docker does", async () => {
    const h = await home();
    await writeJson(join(h.home, ".docker/config.json"), {
      auths: { "reg.example/team": { auth: b64("team:pw") } },
    });
    expect(await credentialFor(h, registry("reg.example"))).toEqual(basicCred("team", "pw"));
  });
});
