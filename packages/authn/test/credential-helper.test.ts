import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AuthnError,
  anonymous,
  CredentialHelperError,
  credentialHelper,
  helperKeychain,
  toHelperCredentials,
} from "../src/index.js";
import { helperEnv, registry, tempDir, writeHelper, writeStoreHelper } from "./support.js";

async function bin(): Promise<string> {
  return join(await tempDir(), "bin");
}

describe("credential helper protocol", () => {
  it("sends the server URL on stdin without a newline and reads the JSON answer", async () => {
    const dir = await bin();
    await writeHelper(
      dir,
      "echo",
      `cat > "${dir}/stdin.bin"; echo "$1" > "${dir}/action.txt"
printf '{"ServerURL":"ignored","Username":"u","Secret":"s"}'`,
    );
    const helper = credentialHelper("echo", { env: helperEnv(dir) });
    expect(helper.program).toBe("docker-credential-echo");
    expect(await helper.get("https://index.docker.io/v1/")).toEqual({
      serverURL: "ignored",
      username: "u",
      secret: "s",
    });
    expect(await readFile(join(dir, "stdin.bin"), "utf8")).toBe("https://index.docker.io/v1/");
    expect(await readFile(join(dir, "action.txt"), "utf8")).toBe("get\n");
  });

  it("stores, gets, lists and erases through a real store", async () => {
    const dir = await bin();
    const storeDir = join(dir, "..", "store");
    await writeStoreHelper(dir, "files", storeDir);
    const helper = credentialHelper("files", { env: helperEnv(dir) });
    await helper.store({ serverURL: "reg.example", username: "alice", secret: "pw" });
    expect(await helper.get("reg.example")).toEqual({
      serverURL: "reg.example",
      username: "alice",
      secret: "pw",
    });
    expect(await helper.list()).toEqual({});
    expect(await helper.erase("reg.example")).toBe(true);
    expect(await helper.get("reg.example")).toBeUndefined();
    expect(await helper.erase("reg.example")).toBe(false);
    const calls = await readFile(join(storeDir, "calls.log"), "utf8");
    expect(calls.split("\n").filter(Boolean)).toEqual([
      'store {"ServerURL":"reg.example","Username":"alice","Secret":"pw"}',
      "get reg.example",
      "list unused",
      "erase reg.example",
      "get reg.example",
      "erase reg.example",
    ]);
  });

  it("answers 'credentials not found' as undefined, and as anonymous through a keychain", async () => {
    const dir = await bin();
    await writeHelper(dir, "none", `echo "credentials not found in native keychain"; exit 1`);
    expect(
      await credentialHelper("none", { env: helperEnv(dir) }).get("reg.example"),
    ).toBeUndefined();
    expect(
      await helperKeychain("none", { env: helperEnv(dir) }).resolve(registry("reg.example")),
    ).toBe(anonymous);
  });

  it("reports a failing helper with its name, exit code and stderr", async () => {
    const dir = await bin();
    await writeHelper(
      dir,
      "broken",
      `echo "gpg: decryption failed: No secret key" >&2; echo "exit status 2"; exit 2`,
    );
    const error = await credentialHelper("broken", { env: helperEnv(dir) })
      .get("reg.example")
      .catch((e) => e);
    expect(CredentialHelperError.is(error)).toBe(true);
    expect(AuthnError.is(error)).toBe(true);
    expect(error).toMatchObject({
      code: "HOIST_AUTHN_HELPER_FAILED",
      helper: "docker-credential-broken",
      action: "get",
      exitCode: 2,
      stderr: "gpg: decryption failed: No secret key",
      output: "exit status 2",
    });
    expect(error.message).toContain("docker-credential-broken");
    expect(error.message).toContain("gpg: decryption failed");
  });

  it("reports a missing helper", async () => {
    const dir = await bin();
    const error = await helperKeychain("nowhere", { env: helperEnv(dir) })
      .resolve(registry("reg.example"))
      .catch((e) => e);
    expect(error).toMatchObject({
      code: "HOIST_AUTHN_HELPER_NOT_FOUND",
      helper: "docker-credential-nowhere",
    });
    expect(error.message).toContain("not found on PATH");
  });

  it("kills a helper that hangs, its children included, after the timeout", async () => {
    const dir = await bin();
    // The shell forks `sleep`, which inherits stdout: only killing the group frees the pipe.
    await writeHelper(dir, "hang", `echo "waiting for a desktop prompt" >&2; sleep 30; echo never`);
    const started = Date.now();
    const error = await credentialHelper("hang", { env: helperEnv(dir), timeoutMs: 300 })
      .get("reg.example")
      .catch((e) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({
      code: "HOIST_AUTHN_HELPER_TIMEOUT",
      helper: "docker-credential-hang",
      stderr: "waiting for a desktop prompt",
    });
    expect(error.message).toContain("300 ms");
  });

  it("stops a helper when the signal aborts", async () => {
    const dir = await bin();
    await writeHelper(dir, "slow", "sleep 30");
    const controller = new AbortController();
    const pending = credentialHelper("slow", { env: helperEnv(dir) }).get("reg.example", {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("stop now")), 100);
    await expect(pending).rejects.toThrow("stop now");
  });

  it("reports output that is not the protocol's JSON without quoting it", async () => {
    const dir = await bin();
    await writeHelper(dir, "garbage", "echo 'user=alice secret=hunter2'");
    const error = await credentialHelper("garbage", { env: helperEnv(dir) })
      .get("reg.example")
      .catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_HELPER_INVALID_OUTPUT" });
    expect(error.message).not.toContain("hunter2");
  });

  it("never repeats the secret it stored in an error, even when the helper echoes it", async () => {
    const dir = await bin();
    await writeHelper(dir, "echoer", `input=$(cat); echo "cannot store $input" >&2; exit 1`);
    const error = await credentialHelper("echoer", { env: helperEnv(dir) })
      .store({ serverURL: "reg.example", username: "alice", secret: "hunter2-secret" })
      .catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_HELPER_FAILED", action: "store" });
    expect(JSON.stringify({ m: error.message, s: error.stderr, o: error.output })).not.toContain(
      "hunter2-secret",
    );
    expect(error.stderr).toContain("[redacted]");
  });

  it.each([
    [
      "stdout",
      `echo '{"ServerURL":"reg.example","Username":"alice","Secret":"s3cret-\\"q"}'; exit 1`,
    ],
    ["stderr", `echo '{"Username":"alice","Secret":"s3cret-\\"q"}' >&2; exit 2`],
  ])(
    "keeps a secret the helper printed itself (on %s) before failing out of the error",
    async (_, script) => {
      const dir = await bin();
      await writeHelper(dir, "leaky", `cat >/dev/null; ${script}`);
      const error = await credentialHelper("leaky", { env: helperEnv(dir) })
        .get("reg.example")
        .catch((e) => e);
      expect(error).toMatchObject({ code: "HOIST_AUTHN_HELPER_FAILED", action: "get" });
      const shown = JSON.stringify({ m: error.message, s: error.stderr, o: error.output });
      expect(shown).not.toContain("s3cret");
      expect(shown).toContain("[redacted]");
      expect(error.message).toContain("alice");
    },
  );

  it("refuses helper names that are paths", () => {
    expect(() => credentialHelper("../evil")).toThrow(/not valid/);
    expect(() => credentialHelper("")).toThrow(/not valid/);
  });
});

describe("toHelperCredentials (what `auth get` prints)", () => {
  it.each([
    [{ kind: "basic", username: "u", password: "p" } as const, { username: "u", secret: "p" }],
    [
      { kind: "identity-token", token: "r", username: "x" } as const,
      { username: "<token>", secret: "r" },
    ],
    [{ kind: "registry-token", token: "t" } as const, { username: "", secret: "" }],
  ])("%o", (credential, want) => {
    expect(toHelperCredentials("reg.example", credential)).toEqual({
      serverURL: "reg.example",
      ...want,
    });
  });

  it("has nothing for anonymous", () => {
    expect(toHelperCredentials("reg.example", { kind: "anonymous" })).toBeUndefined();
  });
});
