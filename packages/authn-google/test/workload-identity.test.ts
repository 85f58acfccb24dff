import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { anonymous } from "@hoist/authn";
import { afterAll, expect, it, vi } from "vitest";
import { googleKeychain } from "../src/index.js";
import { useFakeGoogle } from "./fake-google.js";

const home = mkdtempSync(join(tmpdir(), "hoist-gcloud-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const { fake, guard } = useFakeGoogle(() => home);

const registry = (host: string) => ({ host, toString: () => host });

/** A workload identity federation credential file (what GitHub Actions' google-github-actions/auth writes). */
function externalAccountFile(): string {
  const subject = join(home, "oidc-token");
  writeFileSync(subject, "header.payload.signature");
  const path = join(home, "external-account.json");
  writeFileSync(
    path,
    JSON.stringify({
      type: "external_account",
      audience:
        "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/github",
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      token_url: `http://${fake().host}/v1/token`,
      credential_source: { file: subject },
    }),
  );
  return path;
}

it("exchanges a federated token at the STS endpoint named in GOOGLE_APPLICATION_CREDENTIALS", async () => {
  vi.stubEnv("GOOGLE_APPLICATION_CREDENTIALS", externalAccountFile());
  const auth = await googleKeychain().resolve(registry("gcr.io"));
  expect(await auth.authorization()).toEqual({
    kind: "basic",
    username: "oauth2accesstoken",
    password: "sts-token-1",
  });
  const exchange = fake().seen.find((r) => r.path === "/v1/token");
  const form = new URLSearchParams(exchange?.body);
  expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:token-exchange");
  expect(form.get("subject_token")).toBe("header.payload.signature");
  expect(form.get("scope")).toBe("https://www.googleapis.com/auth/cloud-platform");
  expect(guard().refused).toEqual([]);
});

it("serves only Google registry hosts", async () => {
  vi.stubEnv("GOOGLE_APPLICATION_CREDENTIALS", externalAccountFile());
  const before = fake().seen.length;
  for (const host of ["ghcr.io", "gcr.io.evil.example", "docker.pkg.dev", "evilgcr.io"]) {
    expect(await googleKeychain().resolve(registry(host))).toBe(anonymous);
  }
  expect(fake().seen.length).toBe(before);
  const custom = googleKeychain({ matches: (host) => host === "registry.example.com" });
  expect(await custom.resolve(registry("registry.example.com"))).not.toBe(anonymous);
});

it("reports a credential that exists but fails, without going anonymous", async () => {
  vi.stubEnv("GOOGLE_APPLICATION_CREDENTIALS", externalAccountFile());
  fake().stsStatus = 400;
  try {
    const error = await googleKeychain()
      .resolve(registry("gcr.io"))
      .catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_PROVIDER_FAILED", registry: "gcr.io" });
    expect(error.message).toContain("invalid_grant");
  } finally {
    fake().stsStatus = 200;
  }
});

it("reports an unreadable GOOGLE_APPLICATION_CREDENTIALS file", async () => {
  vi.stubEnv("GOOGLE_APPLICATION_CREDENTIALS", join(home, "missing.json"));
  await expect(googleKeychain().resolve(registry("gcr.io"))).rejects.toMatchObject({
    code: "HOIST_AUTHN_PROVIDER_FAILED",
  });
});
