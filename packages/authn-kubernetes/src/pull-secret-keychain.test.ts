import { anonymous, type Credential, type RegistryResource, type Resource } from "@hoist/authn";
import { describe, expect, it } from "vitest";
import { keyMatches, type PullSecret, pullSecretKeychain } from "./index.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const registry = (host: string): RegistryResource => ({ host, toString: () => host });
const repository = (host: string, path: string): Resource => ({
  registry: registry(host),
  path,
  name: `${host}/${path}`,
  toString: () => `${host}/${path}`,
});

function dockerConfigJson(name: string, auths: Record<string, unknown>): PullSecret {
  return {
    metadata: { name, namespace: "apps" },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": b64(JSON.stringify({ auths })) },
  };
}

const user = (u: string): Credential => ({ kind: "basic", username: u, password: "pw" });

async function credential(secrets: PullSecret[], resource: Resource): Promise<Credential> {
  return (await pullSecretKeychain(secrets).resolve(resource)).authorization();
}

describe("pull secrets", () => {
  it("reads kubernetes.io/dockerconfigjson secrets", async () => {
    const secret = dockerConfigJson("regcred", { "registry.example": { auth: b64("alice:pw") } });
    expect(await credential([secret], registry("registry.example"))).toEqual(user("alice"));
  });

  it("reads legacy kubernetes.io/dockercfg secrets (a bare map)", async () => {
    const secret: PullSecret = {
      type: "kubernetes.io/dockercfg",
      data: {
        ".dockercfg": b64(
          JSON.stringify({
            "https://registry.example": { username: "bob", password: "pw", email: "b@x" },
          }),
        ),
      },
    };
    expect(await credential([secret], repository("registry.example", "a/b"))).toEqual(user("bob"));
  });

  it("skips secrets of other types, or without their data, and says so", () => {
    const warnings: string[] = [];
    pullSecretKeychain(
      [
        { metadata: { name: "tls" }, type: "kubernetes.io/tls", data: { "tls.crt": "" } },
        { metadata: { name: "empty" }, type: "kubernetes.io/dockerconfigjson", data: {} },
        // The type decides which key is read, as in the kubelet.
        { metadata: { name: "mixed" }, type: "Opaque", data: { ".dockerconfigjson": b64("{}") } },
      ],
      { onWarning: (message) => warnings.push(message) },
    );
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain('"tls"');
    expect(warnings[1]).toContain("no .dockerconfigjson");
  });

  it.each([
    ["data that is not base64", { ".dockerconfigjson": "!!!" }],
    [
      "data that is not JSON",
      { ".dockerconfigjson": b64(`{"auths": {"r": {"auth": "${b64("u:topsecret")}"}`) },
    ],
    ["auths that is a list", { ".dockerconfigjson": b64('{"auths": []}') }],
    [
      "an auth without a colon",
      { ".dockerconfigjson": b64(JSON.stringify({ auths: { r: { auth: b64("topsecret") } } })) },
    ],
  ])("rejects %s, naming the secret and not its content", (_, data) => {
    let error: unknown;
    try {
      pullSecretKeychain([
        {
          metadata: { name: "bad", namespace: "apps" },
          type: "kubernetes.io/dockerconfigjson",
          data,
        },
      ]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "HOIST_AUTHN_SECRET_INVALID" });
    expect((error as Error).message).toContain('"apps/bad"');
    expect((error as Error).message).not.toContain("topsecret");
  });

  it("carries identity and registry tokens", async () => {
    const secret = dockerConfigJson("acr", {
      "myreg.azurecr.io": {
        auth: b64("00000000-0000-0000-0000-000000000000:"),
        identitytoken: "refresh",
      },
      "tok.example": { registrytoken: "bearer" },
    });
    expect(await credential([secret], registry("myreg.azurecr.io"))).toEqual({
      kind: "identity-token",
      token: "refresh",
      username: "00000000-0000-0000-0000-000000000000",
    });
    expect(await credential([secret], registry("tok.example"))).toEqual({
      kind: "registry-token",
      token: "bearer",
    });
  });
});

describe("kubelet matching", () => {
  it.each([
    ["*.registry.io", "foo.registry.io/app", true],
    ["*.registry.io", "registry.io/app", false],
    ["*.registry.io", "a.b.registry.io/app", false],
    ["*.*.registry.io", "a.b.registry.io/app", true],
    ["registry.io:5000", "registry.io:5000/app", true],
    ["registry.io:5000", "registry.io/app", false],
    ["registry.io", "registry.io:5000/app", false],
    ["quay.io/team", "quay.io/team/app", true],
    ["quay.io/team", "quay.io/other/app", false],
    // A plain string prefix, as in the kubelet.
    ["quay.io/par", "quay.io/partial/app", true],
    ["https://quay.io/v2/team", "quay.io/team/app", true],
    ["http://quay.io", "quay.io/any", true],
    ["https://index.docker.io/v1/", "index.docker.io/library/ubuntu", true],
    ["docker.io", "index.docker.io/library/ubuntu", true],
    ["reg?.example", "reg1.example/app", true],
    ["reg[0-9].example", "regx.example/app", false],
    ["REGISTRY.example", "registry.example/app", true],
  ])("%s matches %s: %s", (key, image, want) => {
    expect(keyMatches(key, image)).toBe(want);
  });

  it("tries keys most specific first (reverse lexical order)", async () => {
    const secret = dockerConfigJson("s", {
      "quay.io": { auth: b64("registry:pw") },
      "quay.io/team": { auth: b64("team:pw") },
      "quay.io/team/app": { auth: b64("app:pw") },
      "*.quay.io": { auth: b64("wild:pw") },
    });
    expect(await credential([secret], repository("quay.io", "team/app"))).toEqual(user("app"));
    expect(await credential([secret], repository("quay.io", "team/other"))).toEqual(user("team"));
    expect(await credential([secret], repository("quay.io", "else/x"))).toEqual(user("registry"));
    expect(await credential([secret], repository("eu.quay.io", "else/x"))).toEqual(user("wild"));
    expect(await credential([secret], registry("quay.io"))).toEqual(user("registry"));
  });

  it("lets the first secret win when two have the same key", async () => {
    const first = dockerConfigJson("first", { "quay.io": { auth: b64("first:pw") } });
    const second = dockerConfigJson("second", {
      "https://quay.io/v1/": { auth: b64("second:pw") },
    });
    expect(await credential([first, second], registry("quay.io"))).toEqual(user("first"));
    expect(await credential([second, first], registry("quay.io"))).toEqual(user("second"));
  });

  it("is anonymous when nothing matches", async () => {
    const secret = dockerConfigJson("s", { "quay.io": { auth: b64("registry:pw") } });
    expect(await pullSecretKeychain([secret]).resolve(registry("ghcr.io"))).toBe(anonymous);
  });
});
