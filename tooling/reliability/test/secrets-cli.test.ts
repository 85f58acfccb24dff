import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
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
import { createLayout } from "@hoist/layout";
import { randomImage } from "@hoist/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findLeaks, lineExposures } from "../src/index.js";
import { classifyCli, hoist } from "./cli.js";
import { SecretLab } from "./secret-lab.js";
import { expectClean, fileTempDir, useTally } from "./support.js";

// The secrets scenario through the command line, as a user runs it: `hoist auth login`, then
// pushes, pulls, copies and listings with -v (the debug log of every request on stderr), Basic
// and Bearer, and the error paths. No password, token or Authorization value may appear on
// stderr, nor on stdout of commands that do not exist to print one (`auth get`, `auth token`).

const BOUND_MS = 60_000;
const tally = useTally("secrets: the CLI with -v", { boundMs: BOUND_MS });
const lab = new SecretLab();
const alicePassword = lab.make("alice password");
const bobPassword = lab.make("bob password");
const helperPassword = lab.make("helper password");
const secrets = lab.secrets;

let basicRegistry: RunningDockerRegistry;
let basicProxy: RunningFaultProxy;
let tokenEnv: TokenAuthRegistry;
let tokenProxy: RunningFaultProxy;
let echo: RunningHttpOrigin;
let home: string;
let layoutPath: string;
const outputs: { name: string; stdout?: string; stderr: string }[] = [];

beforeAll(async () => {
  basicRegistry = await startHtpasswdRegistry({ users: { alice: alicePassword.value } });
  basicProxy = await startFaultProxy({ target: basicRegistry.url });
  tokenEnv = await startTokenAuthRegistry({
    users: {
      bob: { password: bobPassword.value, access: [{ name: "bob/*", actions: ["pull", "push"] }] },
    },
  });
  tokenProxy = await startFaultProxy({ target: tokenEnv.registry.url });
  echo = await startHttpOrigin({
    handler: (request, res) => {
      const sent = String(request.headers.authorization ?? "");
      res.writeHead(request.headers.authorization ? 403 : 401, {
        "content-type": "application/json",
        "www-authenticate": 'Basic realm="echo"',
      });
      res.end(
        JSON.stringify({
          errors: [
            { code: "DENIED", message: `refused ${sent} ${Buffer.from(sent.slice(6), "base64")}` },
          ],
        }),
      );
    },
  });
  home = await fileTempDir();
  await mkdir(join(home, "docker"));
  layoutPath = join(home, "layout");
  const layout = await createLayout(layoutPath);
  await layout.appendImage(randomImage({ layers: 2, seed: "secrets-cli" }), { refName: "v1" });
}, 120_000);

afterAll(async () => {
  await Promise.all([basicProxy?.stop(), tokenProxy?.stop(), echo?.stop()]);
  await Promise.all([basicRegistry?.stop(), tokenEnv?.stop()]);
});

/** Runs `hoist ARGS` in the test's docker config; `expected` is its outcome. */
async function cli(
  args: string[],
  expected: "success" | "typed failure",
  options: { stdoutIsSecret?: boolean; stdin?: string; env?: Record<string, string> } = {},
) {
  const name = `hoist ${args.join(" ")}`
    .replaceAll(alicePassword.value, "***")
    .replaceAll(bobPassword.value, "***");
  const result = await hoist(args, {
    env: { DOCKER_CONFIG: join(home, "docker"), HOME: home, ...options.env },
    timeoutMs: BOUND_MS,
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
  });
  outputs.push({
    name,
    stderr: result.stderr,
    ...(options.stdoutIsSecret ? {} : { stdout: result.stdout }),
  });
  if (result.status === 0) {
    if (expected === "success") tally.verified(result.durationMs);
    else tally.untyped(`${name}: succeeded, but it should have failed`, result.durationMs);
  } else {
    const classification = classifyCli(result);
    if (!classification.typed)
      tally.untyped(`${name}: ${classification.reason}`, result.durationMs);
    else if (expected === "typed failure") tally.typed(classification.code, result.durationMs);
    else
      tally.untyped(
        `${name}: failed with ${classification.code}: ${result.stderr.split("\n").find((l) => l.startsWith("Error:"))}`,
        result.durationMs,
      );
  }
  return result;
}

describe("secrets through the CLI", () => {
  it("Basic: log in, push, list, read, pull, copy with -v", async () => {
    const registry = basicProxy.host;
    await cli(["auth", "login", registry, "-u", "alice", "-p", alicePassword.value], "success");
    await cli(["-v", "push", layoutPath, `${registry}/alice/app:v1`], "success");
    await cli(["-v", "ls", `${registry}/alice/app`], "success");
    await cli(["-v", "digest", `${registry}/alice/app:v1`], "success");
    await cli(["-v", "manifest", `${registry}/alice/app:v1`], "success");
    await cli(["-v", "config", `${registry}/alice/app:v1`], "success");
    await cli(
      ["-v", "pull", "--format", "oci", `${registry}/alice/app:v1`, join(home, "pulled")],
      "success",
    );
    await cli(["-v", "cp", `${registry}/alice/app:v1`, `${registry}/alice/copy:v1`], "success");
    await cli(["-v", "auth", "get", registry], "success", { stdoutIsSecret: true });
    // The password from stdin, as scripts pass it.
    await cli(["auth", "login", registry, "-u", "alice", "--password-stdin"], "success", {
      stdin: alicePassword.value,
    });
    lab.harvest(basicProxy);
    expectClean(tally);
  });

  it("Bearer: log in, push, pull, copy, list, auth token with -v", async () => {
    const registry = tokenProxy.host;
    await cli(["auth", "login", registry, "-u", "bob", "-p", bobPassword.value], "success");
    await cli(["-v", "push", layoutPath, `${registry}/bob/app:v1`], "success");
    await cli(
      ["-v", "pull", "--format", "oci", `${registry}/bob/app:v1`, join(home, "pulled-bob")],
      "success",
    );
    await cli(["-v", "cp", `${registry}/bob/app:v1`, `${registry}/bob/copy:v1`], "success");
    await cli(["-v", "ls", `${registry}/bob/app`], "success");
    const token = await cli(["-v", "auth", "token", `${registry}/bob/app`], "success", {
      stdoutIsSecret: true,
    });
    for (const match of token.stdout.matchAll(
      /"(?:token|access_token|refresh_token)"\s*:\s*"([^"]+)"/g,
    )) {
      secrets.push({ label: "auth token output", value: match[1] as string });
    }
    lab.harvest(tokenProxy);
    expectClean(tally);
  });

  it("error paths: wrong passwords, a refusing registry, an echoing registry, a failing helper", async () => {
    await cli(
      ["auth", "login", basicProxy.host, "-u", "alice", "-p", `${alicePassword.value}-x`],
      "success",
    );
    await cli(["-v", "ls", `${basicProxy.host}/alice/app`], "typed failure");
    await cli(["-v", "push", layoutPath, `${basicProxy.host}/alice/other:v1`], "typed failure");
    await cli(
      ["auth", "login", tokenProxy.host, "-u", "bob", "-p", `${bobPassword.value}-x`],
      "success",
    );
    await cli(
      ["-v", "pull", "--format", "oci", `${tokenProxy.host}/bob/app:v1`, join(home, "nope")],
      "typed failure",
    );
    await cli(["-v", "auth", "token", `${tokenProxy.host}/bob/app`], "typed failure");
    secrets.push(
      { label: "wrong alice password", value: `${alicePassword.value}-x` },
      { label: "wrong bob password", value: `${bobPassword.value}-x` },
    );
    await cli(["auth", "login", echo.host, "-u", "alice", "-p", alicePassword.value], "success");
    await cli(["-v", "ls", `${echo.host}/alice/app`], "typed failure");
    await cli(["-v", "digest", `${echo.host}/alice/app:v1`], "typed failure");
    // A credential helper that prints its credential and then fails.
    const bin = join(home, "bin");
    await mkdir(bin, { recursive: true });
    const helper = join(bin, "docker-credential-leaky");
    await writeFile(
      helper,
      `#!/bin/sh\ncat >/dev/null\necho '{"ServerURL":"x","Username":"alice","Secret":"${helperPassword.value}"}'\necho "failing with ${helperPassword.value}" >&2\nexit 1\n`,
    );
    await chmod(helper, 0o755);
    const helperHome = join(home, "helper-config");
    await mkdir(helperHome, { recursive: true });
    await writeFile(join(helperHome, "config.json"), JSON.stringify({ credsStore: "leaky" }));
    await cli(["-v", "ls", `${basicProxy.host}/alice/app`], "typed failure", {
      env: { DOCKER_CONFIG: helperHome, PATH: `${bin}:${process.env.PATH}` },
    });
    lab.harvest(basicProxy);
    lab.harvest(tokenProxy);
    expectClean(tally);
  });

  it("finds no secret in any output, now that every token used is known", () => {
    expect(secrets.length).toBeGreaterThan(6);
    expect(outputs.some((o) => o.stderr.includes("DEBUG:"))).toBe(true);
    const exposures = outputs.flatMap((o) => [
      ...lineExposures(o.stderr.split("\n"), `${o.name}: stderr line`),
      ...(o.stdout === undefined
        ? []
        : lineExposures(o.stdout.split("\n"), `${o.name}: stdout line`)),
    ]);
    for (const leak of findLeaks(exposures, secrets)) {
      tally.leak(`${leak.secret} (${leak.form}) in ${leak.where}`);
    }
    expectClean(tally);
  });
});
