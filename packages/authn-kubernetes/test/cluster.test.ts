import { getEventListeners } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { anonymous, type Credential, defaultKeychain, multiKeychain } from "@hoist/authn";
import { guardLoopbackOnly, type LoopbackGuard } from "@hoist/harness";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { kubernetesKeychain, pullSecretKeychain } from "../src/index.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const registry = (host: string) => ({ host, toString: () => host });

/** A Kubernetes API server with just enough of core/v1 for pull secrets. */
class FakeApiServer {
  readonly objects = new Map<string, unknown>();
  readonly seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  forbidden = false;
  readonly server: Server = createServer((req, res) => {
    this.seen.push({ path: req.url ?? "", headers: req.headers });
    res.setHeader("content-type", "application/json");
    if (this.forbidden) {
      res.statusCode = 403;
      return res.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "Forbidden",
          code: 403,
          message: "secrets is forbidden",
        }),
      );
    }
    const object = this.objects.get(req.url ?? "");
    if (!object) {
      res.statusCode = 404;
      return res.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "NotFound",
          code: 404,
        }),
      );
    }
    return res.end(JSON.stringify(object));
  });

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  secret(namespace: string, name: string, auths: Record<string, unknown>): void {
    this.objects.set(`/api/v1/namespaces/${namespace}/secrets/${name}`, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace },
      type: "kubernetes.io/dockerconfigjson",
      data: { ".dockerconfigjson": b64(JSON.stringify({ auths })) },
    });
  }

  serviceAccount(
    namespace: string,
    name: string,
    pullSecrets: string[],
    secrets: string[] = [],
  ): void {
    this.objects.set(`/api/v1/namespaces/${namespace}/serviceaccounts/${name}`, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name, namespace },
      imagePullSecrets: pullSecrets.map((n) => ({ name: n })),
      secrets: secrets.map((n) => ({ name: n })),
    });
  }
}

let api: FakeApiServer;
let guard: LoopbackGuard;
let dir: string;

beforeAll(async () => {
  guard = guardLoopbackOnly();
  dir = mkdtempSync(join(tmpdir(), "hoist-kube-"));
  api = new FakeApiServer();
  await new Promise<void>((resolve) => api.server.listen(0, "127.0.0.1", resolve));
  api.serviceAccount("default", "default", ["sa-secret"]);
  api.serviceAccount("apps", "builder", ["sa-secret", "missing-secret"], ["mounted"]);
  api.secret("default", "sa-secret", { "quay.io": { auth: b64("sa:pw") } });
  api.secret("apps", "sa-secret", { "quay.io": { auth: b64("apps-sa:pw") } });
  api.secret("apps", "explicit", {
    "quay.io": { auth: b64("explicit:pw") },
    "ghcr.io": { auth: b64("gh:pw") },
  });
  api.secret("apps", "mounted", { "mounted.example": { auth: b64("mounted:pw") } });
});

afterAll(() => {
  api.server.close();
  rmSync(dir, { recursive: true, force: true });
  guard.restore();
  expect(guard.refused).toEqual([]);
});

beforeEach(() => {
  api.seen.length = 0;
  api.forbidden = false;
});

afterEach(() => {
  vi.unstubAllEnvs();
});

function kubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "fake", server: api.url, skipTLSVerify: true }],
    users: [{ name: "robot", token: "service-account-token" }],
    contexts: [{ name: "fake", cluster: "fake", user: "robot", namespace: "apps" }],
    currentContext: "fake",
  });
  return config;
}

async function resolveUser(
  keychain: Awaited<ReturnType<typeof kubernetesKeychain>>,
  host: string,
): Promise<Credential> {
  return (await keychain.resolve(registry(host))).authorization();
}

describe("kubernetesKeychain with the real @kubernetes/client-node", () => {
  it("reads the default service account's imagePullSecrets in the default namespace", async () => {
    const keychain = await kubernetesKeychain({ kubeConfig: kubeConfig() });
    expect(await resolveUser(keychain, "quay.io")).toEqual({
      kind: "basic",
      username: "sa",
      password: "pw",
    });
    expect(api.seen.map((r) => r.path)).toEqual([
      "/api/v1/namespaces/default/serviceaccounts/default",
      "/api/v1/namespaces/default/secrets/sa-secret",
    ]);
    expect(api.seen[0]?.headers.authorization).toBe("Bearer service-account-token");
  });

  it("reads named secrets first, then the service account's, then mountable ones; missing ones are warnings", async () => {
    const warnings: string[] = [];
    // A long-lived signal (a program's shutdown) must not keep a listener per secret read.
    const signal = new AbortController().signal;
    const keychain = await kubernetesKeychain({
      kubeConfig: kubeConfig(),
      namespace: "apps",
      serviceAccountName: "builder",
      imagePullSecrets: ["explicit"],
      useMountSecrets: true,
      onWarning: (message) => warnings.push(message),
      signal,
    });
    expect(getEventListeners(signal, "abort")).toEqual([]);
    expect(await resolveUser(keychain, "quay.io")).toMatchObject({ username: "explicit" });
    expect(await resolveUser(keychain, "mounted.example")).toMatchObject({ username: "mounted" });
    expect(api.seen.map((r) => r.path)).toEqual([
      "/api/v1/namespaces/apps/serviceaccounts/builder",
      "/api/v1/namespaces/apps/secrets/explicit",
      "/api/v1/namespaces/apps/secrets/sa-secret",
      "/api/v1/namespaces/apps/secrets/missing-secret",
      "/api/v1/namespaces/apps/secrets/mounted",
    ]);
    expect(warnings).toEqual(['pull secret "apps/missing-secret" not found; skipped']);
  });

  it("skips the service account with noServiceAccount, and warns about a missing one", async () => {
    const keychain = await kubernetesKeychain({
      kubeConfig: kubeConfig(),
      namespace: "apps",
      noServiceAccount: true,
      imagePullSecrets: ["explicit"],
    });
    expect(await resolveUser(keychain, "ghcr.io")).toMatchObject({ username: "gh" });
    expect(api.seen.map((r) => r.path)).toEqual(["/api/v1/namespaces/apps/secrets/explicit"]);

    const warnings: string[] = [];
    const empty = await kubernetesKeychain({
      kubeConfig: kubeConfig(),
      namespace: "nowhere",
      onWarning: (m) => warnings.push(m),
    });
    expect(await empty.resolve(registry("quay.io"))).toBe(anonymous);
    expect(warnings).toEqual([
      'service account "nowhere/default" not found; using only the named pull secrets',
    ]);
  });

  it("fails on an API error other than not-found", async () => {
    api.forbidden = true;
    const error = await kubernetesKeychain({ kubeConfig: kubeConfig() }).catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_PROVIDER_FAILED" });
    expect(error.message).toContain("HTTP 403");
  });

  it("loads the cluster from KUBECONFIG by default", async () => {
    const path = join(dir, "kubeconfig");
    writeFileSync(
      path,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "fake", cluster: { server: api.url, "insecure-skip-tls-verify": true } },
        ],
        users: [{ name: "robot", user: { token: "from-kubeconfig" } }],
        contexts: [{ name: "fake", context: { cluster: "fake", user: "robot" } }],
        "current-context": "fake",
      }),
    );
    vi.stubEnv("KUBECONFIG", path);
    const keychain = await kubernetesKeychain();
    expect(await resolveUser(keychain, "quay.io")).toMatchObject({ username: "sa" });
    expect(api.seen[0]?.headers.authorization).toBe("Bearer from-kubeconfig");
  });
});

it("README example", async () => {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  // The README's pull secret, as `kubectl get secret regcred -o json` returns it.
  const secret = {
    type: "kubernetes.io/dockerconfigjson",
    data: {
      ".dockerconfigjson": b64(
        JSON.stringify({ auths: { "*.registry.example": { auth: b64("robot:pw") } } }),
      ),
    },
  };

  // --- the README's code, unchanged ---
  const keychain = multiKeychain([pullSecretKeychain([secret]), defaultKeychain()]);
  const host = "eu.registry.example";
  const auth = await keychain.resolve({ host, toString: () => host });
  const credential = await auth.authorization();
  console.log(credential.kind === "basic" ? credential.username : credential.kind); // "robot"
  // --- end ---

  expect(log).toHaveBeenCalledWith("robot");
});
