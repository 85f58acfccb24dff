import { Repository } from "@hoist/name";
import { afterEach, expect, it, vi } from "vitest";
import {
  anonymous,
  basic,
  defaultKeychain,
  type Keychain,
  multiKeychain,
  resourceRegistryHost,
} from "../src/index.js";
import { tempDir } from "./support.js";

afterEach(() => {
  vi.unstubAllEnvs();
});

it("README example", async () => {
  // Keep the example's defaultKeychain() away from the real home and environment.
  const home = await tempDir();
  vi.stubEnv("HOME", home);
  vi.stubEnv("DOCKER_CONFIG", `${home}/.docker`);
  vi.stubEnv("DOCKER_AUTH_CONFIG", "");
  vi.stubEnv("REGISTRY_AUTH_FILE", "");
  vi.stubEnv("XDG_RUNTIME_DIR", "");
  vi.stubEnv("XDG_CONFIG_HOME", `${home}/.config`);
  vi.stubEnv("ROBOT_PASSWORD", "robot-secret");
  const log = vi.spyOn(console, "log").mockImplementation(() => {});

  // --- the README's code, unchanged ---
  const robot: Keychain = {
    name: "robot",
    async resolve(resource) {
      if (resourceRegistryHost(resource) !== "registry.internal.example") return anonymous;
      const password = process.env.ROBOT_PASSWORD;
      return password ? basic("robot", password) : anonymous;
    },
  };

  const keychain = multiKeychain([robot, defaultKeychain()]);
  const auth = await keychain.resolve(Repository.parse("registry.internal.example/team/app"));
  console.log((await auth.authorization()).kind); // "basic"
  // --- end ---

  expect(log).toHaveBeenCalledWith("basic");
  expect(await auth.authorization()).toEqual({
    kind: "basic",
    username: "robot",
    password: "robot-secret",
  });
  expect(
    await keychain.resolve({ host: "elsewhere.example", toString: () => "elsewhere.example" }),
  ).toBe(anonymous);
});
