import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import {
  basic,
  configFileKeychain,
  helperKeychain,
  identityToken,
  login,
  registryToken,
} from "@hoist/authn";
import {
  type RunningDockerRegistry,
  type RunningFaultProxy,
  type RunningHttpOrigin,
  startFaultProxy,
  startHtpasswdRegistry,
  startHttpOrigin,
  startTokenAuthRegistry,
  type TokenAuthRegistry,
} from "@hoist/harness";
import { randomImage } from "@hoist/oci";
import { createTransport, type Transport } from "@hoist/transport";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Exposure, errorExposures, findLeaks, lineExposures, timedRun } from "../src/index.js";
import { SecretLab } from "./secret-lab.js";
import { expectClean, tempDir, useTally } from "./support.js";
import { pullAndVerify, pushImage } from "./wire.js";

// A whole authenticated session with debug logging on, Basic and Bearer (passwords, refresh
// tokens, registry tokens), then every error path we can provoke. Afterwards no password,
// token, refresh token or Authorization value may appear in any debug line, error message,
// cause chain, serialised error, or request that reached another host.

const BOUND_MS = 30_000;
const tally = useTally("secrets: sessions and error paths", { boundMs: BOUND_MS });

const lab = new SecretLab();
const alicePassword = lab.make("alice password");
const bobPassword = lab.make("bob password");
const helperPassword = lab.make("helper password");
/** Every secret of the run: the made-up ones, plus each token and Authorization value seen. */
const secrets = lab.secrets;

interface Flow {
  transport: Transport;
  /** Debug lines so far. */
  lines: string[];
  /** Extra places to search, such as what another host received. */
  expose(exposures: Exposure[]): void;
}

/**
 * Runs one flow with a fresh debug-logging transport. `expected` says whether it should
 * succeed ("verified") or fail with a typed error; the other outcome is a test failure, and
 * any secret anywhere is a leak.
 */
async function flow(
  name: string,
  expected: "success" | "typed failure",
  body: (flow: Flow) => Promise<void>,
): Promise<void> {
  const lines: string[] = [];
  const exposures: Exposure[] = [];
  const transport = createTransport({
    debug: (line) => lines.push(line),
    retry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 50 },
  });
  let caught: unknown;
  const report = await timedRun({ boundMs: BOUND_MS }, async () => {
    try {
      await body({ transport, lines, expose: (more) => exposures.push(...more) });
    } catch (error) {
      caught = error;
      throw error;
    } finally {
      await transport.close();
    }
  });
  afterFlows.push(() => {
    const all = [...lineExposures(lines, `${name}: debug line`), ...exposures];
    if (caught !== undefined) all.push(...errorExposures(caught, `${name}: error`));
    for (const leak of findLeaks(all, secrets)) {
      tally.leak(`${leak.secret} (${leak.form}) in ${leak.where}`);
    }
  });
  if (report.outcome === "finished") {
    if (expected === "success") tally.verified(report.durationMs);
    else tally.untyped(`${name}: succeeded, but it should have failed`, report.durationMs);
  } else if (report.outcome === "failed" && report.classification.typed) {
    if (expected === "typed failure") tally.typed(report.classification.code, report.durationMs);
    else
      tally.untyped(
        `${name}: failed with ${report.classification.code}: ${String((report.error as Error).message).slice(0, 300)}`,
        report.durationMs,
      );
  } else {
    tally.failure(report, name);
  }
  if (expected === "success") {
    expect(lines.length, `${name} logged nothing: is debug logging on?`).toBeGreaterThan(0);
  }
}

/** Leak checks run at the end, when every token issued during the file is known. */
const afterFlows: (() => void)[] = [];

let basicRegistry: RunningDockerRegistry;
let basicProxy: RunningFaultProxy;
let tokenEnv: TokenAuthRegistry;
let tokenProxy: RunningFaultProxy;
let elsewhere: RunningHttpOrigin;

beforeAll(async () => {
  basicRegistry = await startHtpasswdRegistry({ users: { alice: alicePassword.value } });
  basicProxy = await startFaultProxy({ target: basicRegistry.url });
  tokenEnv = await startTokenAuthRegistry({
    users: {
      bob: { password: bobPassword.value, access: [{ name: "bob/*", actions: ["pull", "push"] }] },
    },
  });
  tokenProxy = await startFaultProxy({ target: tokenEnv.registry.url });
  elsewhere = await startHttpOrigin();
});

afterAll(async () => {
  await Promise.all([
    basicProxy?.stop(),
    basicRegistry?.stop(),
    tokenProxy?.stop(),
    tokenEnv?.stop(),
    elsewhere?.stop(),
  ]);
});

describe("secrets: Basic auth against docker-registry with htpasswd", () => {
  const alice = () => basic("alice", alicePassword.value);

  it("a whole session: push an image, read it back, list tags", async () => {
    await flow("basic session", "success", async ({ transport }) => {
      const session = await transport.session({
        registry: basicProxy.host,
        authenticator: alice(),
        scopes: ["repository:alice/app:pull,push"],
      });
      const image = randomImage({ layers: 2, seed: 11 });
      const digest = await pushImage(session, "alice/app", image, "v1");
      await pullAndVerify(session, "alice/app", "v1", digest);
      const tags = await session.request({ method: "GET", path: "/v2/alice/app/tags/list" });
      expect(await tags.json()).toMatchObject({ tags: ["v1"] });
    });
    lab.harvest(basicProxy);
    expectClean(tally);
  });

  it("a wrong password", async () => {
    await flow("basic wrong password", "typed failure", async ({ transport }) => {
      const session = await transport.session({
        registry: basicProxy.host,
        authenticator: basic("alice", `${alicePassword.value}-wrong`),
      });
      await session.request({ method: "GET", path: "/v2/alice/app/tags/list" });
    });
    secrets.push({ label: "wrong password", value: `${alicePassword.value}-wrong` });
    lab.harvest(basicProxy);
    expectClean(tally);
  });

  it("a registry that echoes the Authorization header in its error body", async () => {
    basicProxy.setRules([
      {
        path: /\/v2\/alice\/echo\//,
        fault: { kind: "status", status: 403, body: "" },
      },
    ]);
    // The harness proxy answers with a fixed body; echo through a second origin instead.
    elsewhere.setHandler((request, res: ServerResponse) => {
      const body = JSON.stringify({
        errors: [
          {
            code: "DENIED",
            message: `credentials ${String(request.headers.authorization)} refused`,
            detail: { authorization: request.headers.authorization },
          },
        ],
      });
      res.writeHead(request.path === "/v2/" ? 401 : 403, {
        "content-type": "application/json",
        "www-authenticate": 'Basic realm="echo"',
      });
      res.end(body);
    });
    await flow("basic echoing registry", "typed failure", async ({ transport }) => {
      const session = await transport.session({
        registry: elsewhere.host,
        authenticator: alice(),
      });
      await session.request({ method: "GET", path: "/v2/alice/echo/tags/list" });
    });
    basicProxy.clearRules();
    expectClean(tally);
  });

  it("blobs redirected to another host: the credentials stay behind", async () => {
    const image = randomImage({ layers: 2, seed: 14 });
    const blobs = new Map<string, Buffer>();
    for (const layer of await image.layers()) {
      const chunks: Buffer[] = [];
      for await (const chunk of await layer.compressed()) chunks.push(Buffer.from(chunk));
      blobs.set(String(await layer.digest()), Buffer.concat(chunks));
    }
    blobs.set(String(await image.configName()), Buffer.from(await image.rawConfigFile()));
    elsewhere.clearRequests();
    elsewhere.setHandler((request, res) => {
      const bytes = blobs.get(request.path.split("/").pop() ?? "");
      res.writeHead(bytes ? 200 : 404, { "content-type": "application/octet-stream" });
      res.end(bytes ?? "");
    });
    await flow("basic redirect elsewhere", "success", async ({ transport, expose }) => {
      const session = await transport.session({
        registry: basicProxy.host,
        authenticator: alice(),
        scopes: ["repository:alice/cdn:pull,push"],
      });
      const digest = await pushImage(session, "alice/cdn", image, "v1");
      basicProxy.setRules([
        {
          method: "GET",
          path: /\/blobs\/sha256:/,
          fault: {
            kind: "redirect",
            location: (request) => `${elsewhere.url}/cdn/${request.path.split("/").pop()}`,
          },
        },
      ]);
      try {
        await pullAndVerify(session, "alice/cdn", "v1", digest);
      } finally {
        basicProxy.clearRules();
      }
      const received = elsewhere.requests();
      expect(received).toHaveLength(blobs.size);
      expose(
        received.map((r, i) => ({
          where: `request ${i + 1} received by another host`,
          text: JSON.stringify(r.headers),
        })),
      );
    });
    lab.harvest(basicProxy);
    expectClean(tally);
  });
});

describe("secrets: Bearer tokens from a token server", () => {
  const bob = () => basic("bob", bobPassword.value);

  it("a whole session with a password: pull token, upgrade to push, pull back", async () => {
    await flow("bearer session", "success", async ({ transport }) => {
      const session = await transport.session({
        registry: tokenProxy.host,
        authenticator: bob(),
        scopes: ["repository:bob/app:pull"],
      });
      const image = randomImage({ layers: 2, seed: 12 });
      const digest = await pushImage(session, "bob/app", image, "v1");
      await pullAndVerify(session, "bob/app", "v1", digest);
    });
    lab.harvest(tokenProxy);
    expectClean(tally);
  });

  it("a refresh token (identity token) through the OAuth2 POST", async () => {
    const refresh = tokenEnv.tokenServer.issueRefreshToken("bob");
    secrets.push({ label: "refresh token", value: refresh });
    await flow("bearer refresh token", "success", async ({ transport }) => {
      const session = await transport.session({
        registry: tokenProxy.host,
        authenticator: identityToken(refresh),
        scopes: ["repository:bob/app:pull"],
      });
      const image = randomImage({ layers: 1, seed: 13 });
      const digest = await pushImage(session, "bob/app", image, "v2");
      await pullAndVerify(session, "bob/app", "v2", digest);
    });
    lab.harvest(tokenProxy);
    expectClean(tally);
  });

  it("auth token (password grant asking for a refresh token), then that token as a registry token", async () => {
    let token = "";
    await flow("bearer exchange and registry token", "success", async ({ transport }) => {
      const response = await transport.exchangeToken({
        registry: tokenProxy.host,
        authenticator: bob(),
        scopes: ["repository:bob/app:pull"],
        grant: "password",
      });
      token = response.token;
      secrets.push({ label: "exchanged token", value: response.token });
      if (response.refreshToken) {
        secrets.push({ label: "exchanged refresh token", value: response.refreshToken });
      }
      const session = await transport.session({
        registry: tokenProxy.host,
        authenticator: registryToken(token),
      });
      const tags = await session.request({ method: "GET", path: "/v2/bob/app/tags/list" });
      expect(await tags.json()).toMatchObject({ tags: expect.arrayContaining(["v1"]) });
    });
    expect(token.length).toBeGreaterThan(20);
    lab.harvest(tokenProxy);
    expectClean(tally);
  });

  it("a wrong password", async () => {
    await flow("bearer wrong password", "typed failure", async ({ transport }) => {
      const session = await transport.session({
        registry: tokenProxy.host,
        authenticator: basic("bob", `${bobPassword.value}-wrong`),
      });
      await session.request({ method: "GET", path: "/v2/bob/app/tags/list" });
    });
    secrets.push({ label: "wrong bearer password", value: `${bobPassword.value}-wrong` });
    expectClean(tally);
  });

  it("an unknown refresh token", async () => {
    const bogus = `bogus-refresh-${randomBytes(16).toString("hex")}`;
    secrets.push({ label: "bogus refresh token", value: bogus });
    await flow("bearer unknown refresh token", "typed failure", async ({ transport }) => {
      const session = await transport.session({
        registry: tokenProxy.host,
        authenticator: identityToken(bogus),
      });
      await session.request({ method: "GET", path: "/v2/bob/app/tags/list" });
    });
    expectClean(tally);
  });

  it("tokens the registry refuses (expired on issue): one re-authentication, then an error", async () => {
    tokenEnv.tokenServer.configure({ jwtLifetimeSeconds: -600 });
    try {
      await flow("bearer expired tokens", "typed failure", async ({ transport }) => {
        const session = await transport.session({
          registry: tokenProxy.host,
          authenticator: bob(),
        });
        await session.request({ method: "GET", path: "/v2/bob/app/tags/list" });
      });
    } finally {
      tokenEnv.tokenServer.configure({ jwtLifetimeSeconds: undefined });
    }
    lab.harvest(tokenProxy);
    expectClean(tally);
  });

  it("a 401 loop: every request challenged again, whatever the token", async () => {
    tokenProxy.setRules([
      {
        path: /\/v2\/bob\//,
        fault: {
          kind: "status",
          status: 401,
          headers: {
            "www-authenticate": `Bearer realm="${tokenEnv.tokenServer.realm}",service="${tokenEnv.tokenServer.service}",scope="repository:bob/app:pull"`,
          },
          body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
        },
      },
    ]);
    try {
      await flow("bearer 401 loop", "typed failure", async ({ transport }) => {
        const session = await transport.session({
          registry: tokenProxy.host,
          authenticator: bob(),
        });
        await session.request({ method: "GET", path: "/v2/bob/app/tags/list" });
      });
    } finally {
      tokenProxy.clearRules();
    }
    lab.harvest(tokenProxy);
    expectClean(tally);
  });
});

describe("secrets: a hostile token endpoint", () => {
  /** A registry and its realm on one origin; the realm answers what `token` returns. */
  function hostileRealm(token: (res: ServerResponse, authorization: string) => void) {
    elsewhere.setHandler((request, res) => {
      if (request.path.startsWith("/token")) {
        token(res, String(request.headers.authorization ?? ""));
        return;
      }
      res.writeHead(401, {
        "content-type": "application/json",
        "www-authenticate": `Bearer realm="${elsewhere.url}/token",service="hostile"`,
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    });
  }
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  const decoded = (authorization: string) =>
    Buffer.from(authorization.replace(/^Basic /, ""), "base64").toString("utf8");

  it.each([
    ["answers 200 with HTML", (res: ServerResponse) => json(res, 200, "<html>login</html>")],
    ["answers 200 without a token", (res: ServerResponse) => json(res, 200, { expires_in: 60 })],
    ["answers a token that is a number", (res: ServerResponse) => json(res, 200, { token: 42 })],
    [
      "answers garbage expiry",
      (res: ServerResponse) => json(res, 200, { token: "t".repeat(40), expires_in: "soon" }),
    ],
    [
      "echoes the Basic credentials in an error",
      (res: ServerResponse, authorization: string) =>
        json(res, 401, {
          errors: [{ code: "UNAUTHORIZED", message: `bad credentials ${decoded(authorization)}` }],
          error: "invalid_grant",
          error_description: `password for ${decoded(authorization)} is wrong`,
        }),
    ],
    [
      "echoes the Authorization header in a 500 page",
      (res: ServerResponse, authorization: string) =>
        json(res, 500, `<pre>Authorization: ${authorization}\n${decoded(authorization)}</pre>`),
    ],
    [
      "sends a huge body",
      (res: ServerResponse, authorization: string) =>
        json(res, 400, `${decoded(authorization)} `.repeat(100_000)),
    ],
  ])("the realm %s", async (name, answer) => {
    hostileRealm(answer);
    await flow(`hostile realm ${name}`, "typed failure", async ({ transport }) => {
      const session = await transport.session({
        registry: elsewhere.host,
        authenticator: basic("alice", alicePassword.value),
      });
      const response = await session.request({ method: "GET", path: "/v2/alice/app/tags/list" });
      await response.discard();
    });
    expectClean(tally);
  });
});

describe("secrets: credential helpers that fail", () => {
  /** A docker config naming one helper for every registry, and the helper's directory. */
  async function helperSetup(script: string) {
    const dir = await tempDir();
    const bin = join(dir, "bin");
    await mkdir(bin);
    const program = join(bin, "docker-credential-lab");
    await writeFile(program, `#!/bin/sh\n${script}\n`);
    await chmod(program, 0o755);
    const configPath = join(dir, "config.json");
    await writeFile(configPath, JSON.stringify({ credsStore: "lab" }));
    return { dir, configPath, env: { PATH: `${bin}:/usr/bin:/bin` } };
  }
  const secretJson = () =>
    JSON.stringify({ ServerURL: "x", Username: "alice", Secret: helperPassword.value });

  it("a helper that works: its password stays out of every log", async () => {
    const { configPath, env } = await helperSetup(
      `cat >/dev/null; echo '${JSON.stringify({ ServerURL: "x", Username: "alice", Secret: alicePassword.value })}'`,
    );
    await flow("helper that works", "success", async ({ transport }) => {
      const session = await transport.session({
        registry: basicProxy.host,
        keychain: configFileKeychain({ path: configPath, env }),
      });
      const tags = await session.request({ method: "GET", path: "/v2/alice/app/tags/list" });
      await tags.discard();
    });
    expectClean(tally);
  });

  it.each([
    ["prints the credential, then exits 1", `cat >/dev/null; echo '${"SECRET_JSON"}'; exit 1`],
    [
      "prints the credential to stderr and exits 2",
      `cat >/dev/null; echo '${"SECRET_JSON"}' >&2; exit 2`,
    ],
    ["prints half a credential", `cat >/dev/null; echo '${"SECRET_JSON"}' | head -c 60; exit 0`],
    ["prints the secret as plain text", `cat >/dev/null; echo "token: ${"SECRET_VALUE"}"; exit 0`],
    ["hangs", "sleep 30"],
  ])("a helper that %s", async (name, template) => {
    const script = template
      .replace("SECRET_JSON", secretJson())
      .replace("SECRET_VALUE", helperPassword.value);
    const { configPath, env } = await helperSetup(script);
    await flow(`helper that ${name}`, "typed failure", async ({ transport }) => {
      await transport.session({
        registry: basicProxy.host,
        keychain: configFileKeychain({ path: configPath, env, helperTimeoutMs: 1000 }),
      });
    });
    expectClean(tally);
  });

  it("helperKeychain with a helper that fails after printing the credential", async () => {
    const { env } = await helperSetup(`cat >/dev/null; echo '${secretJson()}'; exit 3`);
    const previous = process.env.PATH;
    await flow("helperKeychain failure", "typed failure", async ({ transport }) => {
      await transport.session({
        registry: basicProxy.host,
        keychain: helperKeychain("lab", { env }),
      });
    });
    expect(process.env.PATH).toBe(previous);
    expectClean(tally);
  });

  it("login through a helper whose store fails and echoes what it was given", async () => {
    const { configPath, env } = await helperSetup(
      'input=$(cat); echo "cannot store $input" >&2; exit 1',
    );
    const before = await readFile(configPath, "utf8");
    await flow("login through a failing helper", "typed failure", async () => {
      await login(
        basicProxy.host,
        { kind: "basic", username: "alice", password: alicePassword.value },
        { configPath, env },
      );
    });
    expect(await readFile(configPath, "utf8")).toBe(before);
    expectClean(tally);
  });
});

describe("secrets: the verdict", () => {
  it("finds no secret anywhere, now that every token issued is known", () => {
    expect(secrets.length).toBeGreaterThan(8);
    for (const check of afterFlows) check();
    expectClean(tally);
  });
});
