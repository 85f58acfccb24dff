import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultKeychain, multiKeychain } from "@hoist/authn";
import { guardLoopbackOnly } from "@hoist/harness";
import { afterEach, expect, it, vi } from "vitest";
import { acrKeychain } from "../src/index.js";

afterEach(() => {
  vi.unstubAllEnvs();
});

it("README example", async () => {
  // A machine with no Azure credential of any kind: the example prints "anonymous", having
  // tried every source of DefaultAzureCredential (the guard refuses the managed-identity probe).
  const home = mkdtempSync(join(tmpdir(), "hoist-azure-readme-"));
  for (const name of [
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT",
    "MSI_ENDPOINT",
  ]) {
    vi.stubEnv(name, "");
  }
  vi.stubEnv("HOME", home);
  vi.stubEnv("DOCKER_CONFIG", join(home, ".docker"));
  vi.stubEnv("PATH", "/nonexistent");
  const guard = guardLoopbackOnly();
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    // --- the README's code, unchanged ---
    const keychain = multiKeychain([acrKeychain(), defaultKeychain()]);
    const host = "myregistry.azurecr.io";
    const auth = await keychain.resolve({ host, toString: () => host });
    const credential = await auth.authorization();
    console.log(credential.kind); // "identity-token", or "anonymous" where no Azure credential exists
    // --- end ---

    expect(log).toHaveBeenCalledWith("anonymous");
    for (const refused of guard.refused) expect(refused).toBe("169.254.169.254:80");
  } finally {
    guard.restore();
    rmSync(home, { recursive: true, force: true });
  }
});
