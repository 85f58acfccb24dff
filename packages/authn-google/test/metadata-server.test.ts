import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultKeychain, multiKeychain } from "@hoist/authn";
import { afterAll, expect, it, vi } from "vitest";
import { googleKeychain } from "../src/index.js";
import { useFakeGoogle } from "./fake-google.js";

const home = mkdtempSync(join(tmpdir(), "hoist-gcloud-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const { fake, guard } = useFakeGoogle(() => home);

const registry = (host: string) => ({ host, toString: () => host });

it("takes an access token from the metadata server (GCE, GKE, Cloud Run) through ADC", async () => {
  vi.stubEnv("GCE_METADATA_HOST", fake().host);
  const keychain = googleKeychain();
  const auth = await keychain.resolve(registry("europe-west1-docker.pkg.dev"));
  const credential = await auth.authorization();
  expect(credential).toEqual({
    kind: "basic",
    username: "oauth2accesstoken",
    password: "metadata-token-1",
  });
  const tokenRequests = fake().seen.filter((r) =>
    r.path.includes("/service-accounts/default/token"),
  );
  expect(tokenRequests.length).toBeGreaterThanOrEqual(1);
  expect(tokenRequests[0]?.headers["metadata-flavor"]).toBe("Google");
  // The library caches the token: more authorizations and registries reuse it.
  await (await keychain.resolve(registry("gcr.io"))).authorization();
  expect(fake().tokens).toBe(1);
  expect(guard().refused).toEqual([]);
});

it("README example", async () => {
  vi.stubEnv("GCE_METADATA_HOST", fake().host);
  const log = vi.spyOn(console, "log").mockImplementation(() => {});

  // --- the README's code, unchanged ---
  const keychain = multiKeychain([googleKeychain(), defaultKeychain()]);
  const host = "us-docker.pkg.dev";
  const auth = await keychain.resolve({ host, toString: () => host });
  const credential = await auth.authorization();
  console.log(credential.kind === "basic" ? credential.username : credential.kind); // "oauth2accesstoken"
  // --- end ---

  expect(log).toHaveBeenCalledWith("oauth2accesstoken");
});
