import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { TokenCredential } from "@azure/identity";
import { anonymous } from "@hoist/authn";
import {
  createServerCertificate,
  guardLoopbackOnly,
  type LoopbackGuard,
  type ServerCertificate,
} from "@hoist/harness";
import { Agent } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ACR_REFRESH_TOKEN_USERNAME, acrKeychain, parseAcrHost } from "../src/index.js";
import { FakeAzure, fakeJwt, TENANT } from "./fake-azure.js";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, "../dist/index.js");

let certificate: ServerCertificate;
let fake: FakeAzure;
let guard: LoopbackGuard;
let dispatcher: Agent;

beforeAll(async () => {
  guard = guardLoopbackOnly();
  certificate = await createServerCertificate();
  fake = new FakeAzure(certificate);
  await fake.listen();
  dispatcher = new Agent({ connect: { ca: certificate.ca } });
});

afterAll(async () => {
  fake.server.close();
  await dispatcher.close();
  await certificate.remove();
  guard.restore();
  expect(guard.refused).toEqual([]);
});

beforeEach(() => {
  fake.exchanges.length = 0;
  fake.aadRequests.length = 0;
  fake.exchangeStatus = 200;
  fake.refreshLifetimeSeconds = 3 * 3600;
});

/** A TokenCredential as @azure/identity's credentials behave, counting its calls. */
function staticCredential(): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    async getToken(scope) {
      scopes.push(String(scope));
      return { token: fakeJwt({ tid: TENANT }), expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
}

const registry = (host: string) => ({ host, toString: () => host });

describe("the ACR exchange", () => {
  it("posts the AAD token to /oauth2/exchange and yields the refresh token as an identity token", async () => {
    const credential = staticCredential();
    const keychain = acrKeychain({ credential, dispatcher, matches: (host) => host === fake.host });
    const auth = await keychain.resolve(registry(fake.host));
    const result = await auth.authorization();
    expect(result).toMatchObject({ kind: "identity-token", username: ACR_REFRESH_TOKEN_USERNAME });
    expect(fake.exchanges).toEqual([
      {
        grant_type: "access_token",
        service: fake.host,
        tenant: TENANT,
        access_token: fakeJwt({ tid: TENANT }),
      },
    ]);
    expect(credential.scopes).toEqual(["https://management.azure.com/.default"]);
  });

  it("caches the refresh token until shortly before it expires", async () => {
    const keychain = acrKeychain({
      credential: staticCredential(),
      dispatcher,
      matches: () => true,
    });
    const auth = await keychain.resolve(registry(fake.host));
    await auth.authorization();
    await (await keychain.resolve(registry(fake.host))).authorization();
    expect(fake.exchanges).toHaveLength(1);

    fake.refreshLifetimeSeconds = 60; // inside the 5-minute margin: renewed every time
    const shortLived = acrKeychain({
      credential: staticCredential(),
      dispatcher,
      matches: () => true,
    });
    const again = await shortLived.resolve(registry(fake.host));
    await again.authorization();
    expect(fake.exchanges).toHaveLength(3);
  });

  it("sends an explicit tenant and scope", async () => {
    const credential = staticCredential();
    const keychain = acrKeychain({
      credential,
      dispatcher,
      matches: () => true,
      tenantId: "other-tenant",
      scope: "https://containerregistry.azure.net/.default",
    });
    await keychain.resolve(registry(fake.host));
    expect(fake.exchanges[0]?.tenant).toBe("other-tenant");
    expect(credential.scopes).toEqual(["https://containerregistry.azure.net/.default"]);
  });

  it("reports a refused exchange with ACR's reason", async () => {
    fake.exchangeStatus = 401;
    const error = await acrKeychain({
      credential: staticCredential(),
      dispatcher,
      matches: () => true,
    })
      .resolve(registry(fake.host))
      .catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_PROVIDER_FAILED", registry: fake.host });
    expect(error.message).toContain("HTTP 401");
    expect(error.message).toContain("AcrPull");
    expect(error.message).not.toContain(fakeJwt({ tid: TENANT }));
  });

  it("answers anonymous when no Azure credential is available, and fails when one breaks", async () => {
    const unavailable: TokenCredential = {
      async getToken() {
        throw Object.assign(new Error("EnvironmentCredential is unavailable"), {
          name: "CredentialUnavailableError",
        });
      },
    };
    expect(
      await acrKeychain({ credential: unavailable, matches: () => true }).resolve(
        registry(fake.host),
      ),
    ).toBe(anonymous);
    const broken: TokenCredential = {
      async getToken() {
        throw Object.assign(new Error("AADSTS7000215: Invalid client secret provided."), {
          name: "AuthenticationError",
        });
      },
    };
    await expect(
      acrKeychain({ credential: broken, matches: () => true }).resolve(registry(fake.host)),
    ).rejects.toMatchObject({
      code: "HOIST_AUTHN_PROVIDER_FAILED",
    });
  });

  it("serves ACR hosts in every cloud with that cloud's scope, and nothing else", async () => {
    expect(parseAcrHost("myreg.azurecr.io")?.scope).toBe("https://management.azure.com/.default");
    expect(parseAcrHost("MyReg.azurecr.cn")?.scope).toBe(
      "https://management.chinacloudapi.cn/.default",
    );
    expect(parseAcrHost("myreg.azurecr.us")?.scope).toBe(
      "https://management.usgovcloudapi.net/.default",
    );
    expect(parseAcrHost("myreg.azurecr.de")?.cloud).toBe("AzureGermanCloud");
    for (const host of [
      "azurecr.io",
      "myreg.azurecr.io.evil.example",
      "myreg.azurecr.com",
      "ghcr.io",
    ]) {
      expect(parseAcrHost(host)).toBeUndefined();
      expect(await acrKeychain({ credential: staticCredential() }).resolve(registry(host))).toBe(
        anonymous,
      );
    }
    expect(fake.exchanges).toEqual([]);
  });
});

describe("DefaultAzureCredential (the real @azure/identity) in a child process", () => {
  async function child(env: Record<string, string>): Promise<Record<string, unknown>> {
    expect(existsSync(dist), "build the package first (turbo runs build before test)").toBe(true);
    const { stdout } = await run(process.execPath, [join(here, "default-azure-credential.mjs")], {
      cwd: here,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: dirname(certificate.caPath),
        NODE_EXTRA_CA_CERTS: certificate.caPath,
        HOIST_AZURE_DIST: pathToFileURL(dist).href,
        HOIST_FAKE_ACR_HOST: fake.host,
        ...env,
      },
    });
    return JSON.parse(stdout.trim().split("\n").at(-1) as string);
  }

  it("signs in with the environment's service principal at AZURE_AUTHORITY_HOST and exchanges the token", async () => {
    const result = await child({
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: "11111111-2222-3333-4444-555555555555",
      AZURE_CLIENT_SECRET: "app-secret",
      AZURE_AUTHORITY_HOST: fake.url,
    });
    expect(result.error).toBeUndefined();
    expect(result.credential).toMatchObject({
      kind: "identity-token",
      username: ACR_REFRESH_TOKEN_USERNAME,
    });
    expect(result.again).toEqual(result.credential);
    expect(result.refused).toEqual([]);
    // MSAL's client-credentials request, as Entra ID receives it.
    const aad = fake.aadRequests[0];
    expect(aad?.get("grant_type")).toBe("client_credentials");
    expect(aad?.get("client_id")).toBe("11111111-2222-3333-4444-555555555555");
    expect(aad?.get("scope")).toBe("https://management.azure.com/.default");
    expect(fake.exchanges).toHaveLength(1);
    expect(fake.exchanges[0]?.tenant).toBe(TENANT);
  });

  it("reports a service principal Entra ID rejects", async () => {
    const result = await child({
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: "11111111-2222-3333-4444-555555555555",
      AZURE_CLIENT_SECRET: "wrong-secret",
      AZURE_AUTHORITY_HOST: fake.url,
    });
    expect(result.error).toMatchObject({ code: "HOIST_AUTHN_PROVIDER_FAILED" });
    expect(String((result.error as { message: string }).message)).toContain("AADSTS7000215");
    expect(fake.exchanges).toEqual([]);
  });

  it("answers anonymous when no source in the chain has a credential", async () => {
    const result = await child({});
    expect(result.error).toBeUndefined();
    expect(result.credential).toEqual({ kind: "anonymous" });
    // Managed identity probed the instance metadata service; the guard refused it at once.
    for (const refused of result.refused as string[])
      expect(refused).toMatch(/^169\.254\.169\.254:80$/);
  });
});
