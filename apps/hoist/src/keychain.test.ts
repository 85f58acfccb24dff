import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { anonymous, basic, type Keychain } from "@hoist/authn";
import { Registry } from "@hoist/name";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CloudPlugin, cliKeychain } from "./keychain.js";

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "hoist-keychain-"));
  await mkdir(join(home, ".docker"));
  await writeFile(
    join(home, ".docker", "config.json"),
    JSON.stringify({
      auths: { "cloud.example": { auth: Buffer.from("file:pw").toString("base64") } },
    }),
  );
});
afterAll(() => rm(home, { recursive: true, force: true }));

const env = () => ({ DOCKER_CONFIG: join(home, ".docker"), HOME: home });

function plugin(name: string, keychain: Keychain | Error, loads: string[]): CloudPlugin {
  return {
    name,
    packageName: `@example/${name}`,
    mayServe: (host) => host.endsWith(`.${name}.example`) || host === "cloud.example",
    load: async () => {
      loads.push(name);
      if (keychain instanceof Error) throw keychain;
      return keychain;
    },
  };
}

const fixed = (username: string): Keychain => ({
  name: username,
  resolve: async () => basic(username, "secret"),
});

async function credentialFor(keychain: Keychain, host: string) {
  return (await keychain.resolve(Registry.parse(host))).authorization();
}

describe("the CLI keychain", () => {
  it("prefers the config files over a plugin", async () => {
    const loads: string[] = [];
    const keychain = cliKeychain({ env: env(), plugins: [plugin("aws", fixed("plugin"), loads)] });
    expect(await credentialFor(keychain, "cloud.example")).toMatchObject({ username: "file" });
    expect(loads).toEqual([]);
  });

  it("loads only the plugin whose hosts match, once", async () => {
    const loads: string[] = [];
    const keychain = cliKeychain({
      env: env(),
      plugins: [plugin("aws", fixed("aws-user"), loads), plugin("gcp", fixed("gcp-user"), loads)],
    });
    expect(await credentialFor(keychain, "r.gcp.example")).toMatchObject({ username: "gcp-user" });
    expect(await credentialFor(keychain, "s.gcp.example")).toMatchObject({ username: "gcp-user" });
    expect(await credentialFor(keychain, "elsewhere.example")).toEqual({ kind: "anonymous" });
    expect(loads).toEqual(["gcp"]);
  });

  it("treats a missing plugin package as no credentials, and says so in the debug log", async () => {
    const missing = Object.assign(new Error("Cannot find package '@example/aws' imported from x"), {
      code: "ERR_MODULE_NOT_FOUND",
    });
    const lines: string[] = [];
    const keychain = cliKeychain({
      env: env(),
      plugins: [plugin("aws", missing, [])],
      debug: (line) => lines.push(line),
    });
    expect(await keychain.resolve(Registry.parse("r.aws.example"))).toBe(anonymous);
    expect(lines.join("\n")).toContain("@example/aws is not installed");
  });

  it("reports a plugin that fails to load for another reason", async () => {
    const keychain = cliKeychain({ env: env(), plugins: [plugin("aws", new Error("boom"), [])] });
    await expect(keychain.resolve(Registry.parse("r.aws.example"))).rejects.toThrow("boom");
  });

  it("maps a plugin's own anonymous answer to anonymous", async () => {
    const foreignAnonymous: Keychain = {
      name: "other-copy",
      resolve: async () => ({ authorization: async () => ({ kind: "anonymous" }) }),
    };
    const keychain = cliKeychain({ env: env(), plugins: [plugin("aws", foreignAnonymous, [])] });
    expect(await keychain.resolve(Registry.parse("r.aws.example"))).toBe(anonymous);
  });
});
