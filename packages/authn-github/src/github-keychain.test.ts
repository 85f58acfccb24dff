import { anonymous, defaultKeychain, multiKeychain } from "@hoist/authn";
import { afterEach, describe, expect, it, vi } from "vitest";
import { githubKeychain } from "./index.js";

const registry = (host: string) => ({ host, toString: () => host });
const repository = (host: string, path: string) => ({
  registry: registry(host),
  path,
  name: `${host}/${path}`,
  toString: () => `${host}/${path}`,
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("githubKeychain", () => {
  it.each([
    [
      { GITHUB_TOKEN: "ghs_actions", GITHUB_ACTOR: "octocat" },
      { username: "octocat", password: "ghs_actions" },
    ],
    [{ GH_TOKEN: "gho_cli" }, { username: "x-access-token", password: "gho_cli" }],
    [
      { GITHUB_TOKEN: "first", GH_TOKEN: "second" },
      { username: "x-access-token", password: "first" },
    ],
    [
      { GITHUB_TOKEN: "", GH_TOKEN: "second" },
      { username: "x-access-token", password: "second" },
    ],
  ])("reads %o", async (env, want) => {
    const auth = await githubKeychain({ env }).resolve(repository("ghcr.io", "octo-org/app"));
    expect(await auth.authorization()).toEqual({ kind: "basic", ...want });
  });

  it("serves ghcr.io and docker.pkg.github.com, any case, and nothing else", async () => {
    const keychain = githubKeychain({ env: { GITHUB_TOKEN: "t" } });
    for (const host of ["ghcr.io", "GHCR.io", "docker.pkg.github.com"]) {
      expect(await keychain.resolve(registry(host))).not.toBe(anonymous);
    }
    for (const host of ["ghcr.io.example.com", "ghcr.io:5000", "github.com", "index.docker.io"]) {
      expect(await keychain.resolve(registry(host))).toBe(anonymous);
    }
  });

  it("is anonymous without a token", async () => {
    expect(await githubKeychain({ env: {} }).resolve(registry("ghcr.io"))).toBe(anonymous);
  });

  it("takes an explicit token, username and extra hosts", async () => {
    const keychain = githubKeychain({
      env: {},
      token: "ghp_explicit",
      username: "me",
      hosts: ["containers.github.example.com"],
    });
    const auth = await keychain.resolve(registry("containers.github.example.com"));
    expect(await auth.authorization()).toEqual({
      kind: "basic",
      username: "me",
      password: "ghp_explicit",
    });
  });

  it("rejects an empty explicit token", () => {
    expect(() => githubKeychain({ token: " " })).toThrow(
      expect.objectContaining({ code: "HOIST_AUTHN_INVALID_ARGUMENT" }),
    );
  });

  it("reads the environment at each resolve", async () => {
    const keychain = githubKeychain();
    vi.stubEnv("GITHUB_TOKEN", "");
    vi.stubEnv("GH_TOKEN", "");
    expect(await keychain.resolve(registry("ghcr.io"))).toBe(anonymous);
    vi.stubEnv("GITHUB_TOKEN", "later");
    expect(await (await keychain.resolve(registry("ghcr.io"))).authorization()).toMatchObject({
      password: "later",
    });
  });
});

it("README example", async () => {
  vi.stubEnv("GITHUB_TOKEN", "ghs_example");
  vi.stubEnv("GITHUB_ACTOR", "octocat");
  const log = vi.spyOn(console, "log").mockImplementation(() => {});

  // --- the README's code, unchanged ---
  const keychain = multiKeychain([githubKeychain(), defaultKeychain()]);
  const auth = await keychain.resolve({ host: "ghcr.io", toString: () => "ghcr.io" });
  const credential = await auth.authorization();
  console.log(credential.kind === "basic" ? credential.username : credential.kind); // $GITHUB_ACTOR
  // --- end ---

  expect(log).toHaveBeenCalledWith("octocat");
});
