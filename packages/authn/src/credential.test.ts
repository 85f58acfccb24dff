import { describe, expect, it } from "vitest";
import { anonymous, basic, fromCredential, identityToken, registryToken } from "./credential.js";
import { resourceKey, resourceRegistryHost } from "./resource.js";

describe("authenticators", () => {
  it("yield the credential they were made with", async () => {
    expect(await basic("u", "p").authorization()).toEqual({
      kind: "basic",
      username: "u",
      password: "p",
    });
    expect(await registryToken("t").authorization()).toEqual({
      kind: "registry-token",
      token: "t",
    });
    expect(await identityToken("r", { username: "x" }).authorization()).toEqual({
      kind: "identity-token",
      token: "r",
      username: "x",
    });
    expect(await anonymous.authorization()).toEqual({ kind: "anonymous" });
  });

  it("collapse an anonymous credential to the anonymous singleton", () => {
    expect(fromCredential({ kind: "anonymous" })).toBe(anonymous);
  });
});

describe("resources", () => {
  const registry = { host: "ghcr.io", toString: () => "ghcr.io" };
  const repository = {
    registry,
    path: "hoist/demo",
    name: "ghcr.io/hoist/demo",
    toString: () => "ghcr.io/hoist/demo",
  };

  it("name their registry host and their lookup key", () => {
    expect(resourceRegistryHost(registry)).toBe("ghcr.io");
    expect(resourceRegistryHost(repository)).toBe("ghcr.io");
    expect(resourceKey(registry)).toBe("ghcr.io");
    expect(resourceKey(repository)).toBe("ghcr.io/hoist/demo");
  });
});
