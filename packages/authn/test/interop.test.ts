import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { findBinary, useHtpasswdRegistry } from "@hoist/harness";
import { describe, expect, it } from "vitest";
import {
  anonymous,
  type Credential,
  configFileKeychain,
  defaultKeychain,
  login,
} from "../src/index.js";
import { registry, tempDir, writeJson } from "./support.js";

const run = promisify(execFile);
const USER = "hoist";
const PASSWORD = "correct horse battery staple";

// The harness writes the htpasswd file before the registry starts: distribution invents a
// random user of its own when the file is missing at start-up.
const getRegistry = useHtpasswdRegistry({ users: { [USER]: PASSWORD } });

/** Asks the real registry whether it accepts a credential (distribution answers /v2/ 200 or 401). */
async function accepted(credential: Credential): Promise<number> {
  const headers: Record<string, string> =
    credential.kind === "basic"
      ? {
          authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`,
        }
      : {};
  const response = await fetch(`${getRegistry().url}/v2/`, { headers });
  await response.body?.cancel();
  return response.status;
}

describe("with the real docker-registry and skopeo", () => {
  it("rejects anonymous and accepts the credential hoist's login stored", async () => {
    const home = await tempDir();
    const env = { PATH: "/usr/bin:/bin" };
    expect(await accepted({ kind: "anonymous" })).toBe(401);
    await login(
      getRegistry().host,
      { kind: "basic", username: USER, password: PASSWORD },
      { env, homedir: home },
    );
    const auth = await defaultKeychain({ env, homedir: home }).resolve(
      registry(getRegistry().host),
    );
    expect(await accepted(await auth.authorization())).toBe(200);
  });

  it("writes a config skopeo (containers/image) reads, and reads what skopeo login writes", async () => {
    const skopeo = findBinary("skopeo", { debianPackage: "skopeo" });
    const home = await tempDir();
    const ours = join(home, "ours.json");
    await writeJson(ours, { auths: {}, "x-kept": true });
    await login(
      getRegistry().host,
      { kind: "basic", username: USER, password: PASSWORD },
      { configPath: ours },
    );
    const { stdout } = await run(skopeo, [
      "login",
      "--get-login",
      "--authfile",
      ours,
      getRegistry().host,
    ]);
    expect(stdout.trim()).toBe(USER);

    const theirs = join(home, "theirs.json");
    await run(skopeo, [
      "login",
      "--tls-verify=false",
      "--authfile",
      theirs,
      "-u",
      USER,
      "-p",
      PASSWORD,
      getRegistry().host,
    ]);
    const keychain = defaultKeychain({
      env: { REGISTRY_AUTH_FILE: theirs, PATH: "/usr/bin:/bin" },
      homedir: home,
    });
    const auth = await keychain.resolve(registry(getRegistry().host));
    expect(await auth.authorization()).toEqual({
      kind: "basic",
      username: USER,
      password: PASSWORD,
    });
    expect(await accepted(await auth.authorization())).toBe(200);

    await run(skopeo, ["logout", "--authfile", ours, getRegistry().host]);
    expect(await configFileKeychain({ path: ours }).resolve(registry(getRegistry().host))).toBe(
      anonymous,
    );
  });
});
