import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { anonymous } from "@hoist/authn";
import { afterAll, expect, it } from "vitest";
import { googleKeychain, isGoogleRegistryHost } from "../src/index.js";
import { useFakeGoogle } from "./fake-google.js";

const home = mkdtempSync(join(tmpdir(), "hoist-gcloud-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const { guard } = useFakeGoogle(() => home);

it("answers anonymous when ADC finds nothing (no file, no gcloud, no metadata server)", async () => {
  const auth = await googleKeychain().resolve({ host: "gcr.io", toString: () => "gcr.io" });
  expect(auth).toBe(anonymous);
  // The library probed for a metadata server; the guard refused it at once.
  for (const refused of guard().refused) {
    expect(refused).toMatch(/^(169\.254\.169\.254|metadata\.google\.internal\.?):80$/);
  }
});

it.each([
  ["gcr.io", true],
  ["eu.gcr.io", true],
  ["asia.gcr.io", true],
  ["us-central1-docker.pkg.dev", true],
  ["europe-docker.pkg.dev", true],
  ["docker.pkg.dev", false],
  ["us-central1-npm.pkg.dev", false],
  ["gcr.io.example.com", false],
  ["ghcr.io", false],
])("isGoogleRegistryHost(%j) is %j", (host, want) => {
  expect(isGoogleRegistryHost(host)).toBe(want);
});
