import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { seededRandom } from "@hoist/harness";
import { describe, expect, it } from "vitest";
import { suiteSize } from "../src/index.js";
import { expectClean, tempDir, useTally } from "./support.js";

// A login interrupted mid-write (the process killed) leaves the original config intact and
// parseable: through a real child process running @hoist/authn's login, killed at every
// file-system call it makes, then killed at seeded random moments while it logs in over and
// over against a large config.

const CHILDREN = join(dirname(fileURLToPath(import.meta.url)), "children");
const CHILD = join(CHILDREN, "login-child.mjs");
const STAGES = pathToFileURL(join(CHILDREN, "fs-stages.mjs")).href;
const CLI = fileURLToPath(new URL("../../../apps/hoist/dist/hoist.cjs", import.meta.url));
const SERVER = "registry.example";
const size = suiteSize();
const tally = useTally("durability: login killed mid-write", { boundMs: 20_000 });

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** The config before the login: credentials for the server, other registries, unknown fields. */
function originalConfig(padding: number): string {
  const others: Record<string, { auth: string }> = {};
  for (let i = 0; i < padding; i++) others[`other-${i}.example`] = { auth: b64(`u${i}:p${i}`) };
  return JSON.stringify(
    {
      auths: { [SERVER]: { auth: b64("olduser:old-password") }, ...others },
      credHelpers: {},
      psFormat: "table {{.ID}}",
      "x-unknown-field": { kept: true },
    },
    null,
    "\t",
  );
}

function startChild(
  env: Record<string, string>,
  args: readonly string[] = [CHILD],
): { child: ChildProcess; output: () => string } {
  let out = "";
  const child = spawn(process.execPath, ["--import", STAGES, ...args], {
    cwd: CHILDREN,
    env: { ...process.env, SERVER, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  return { child, output: () => out };
}

function waitFor(
  read: () => string,
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (pattern.test(read())) {
        clearInterval(poll);
        resolve();
      } else if (child.exitCode !== null || Date.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`the child never printed ${pattern}; it said:\n${read()}`));
      }
    }, 2);
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/**
 * What the config must be after the kill: valid JSON, every other field as before, and the
 * server's credentials either the old ones or one complete set the child wrote.
 */
async function judge(path: string, original: string, allowed: (auth: string) => boolean) {
  const text = await readFile(path, "utf8");
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `config.json does not parse (${text.length} bytes, ends "${text.slice(-40)}")`;
  }
  const before = JSON.parse(original);
  const auths = parsed.auths as Record<string, { auth?: string }>;
  for (const key of Object.keys(before.auths)) {
    if (key === SERVER) continue;
    if (auths?.[key]?.auth !== before.auths[key].auth) return `auths["${key}"] was lost`;
  }
  for (const key of ["credHelpers", "psFormat", "x-unknown-field"]) {
    if (JSON.stringify(parsed[key]) !== JSON.stringify(before[key])) return `${key} was changed`;
  }
  const auth = auths?.[SERVER]?.auth;
  if (auth === undefined) return `auths["${SERVER}"] is gone`;
  const decoded = Buffer.from(auth, "base64").toString("utf8");
  return allowed(decoded) ? undefined : `auths["${SERVER}"] holds "${decoded}"`;
}

describe("durability: login killed mid-write", () => {
  /**
   * Kills a login at each file-system call it makes (counted by a dry run) and judges the
   * config after each kill: the old credentials or the new ones, everything else kept.
   */
  async function killAtEachCall(
    what: string,
    start: (configPath: string, pauseAt: number) => ReturnType<typeof startChild>,
  ) {
    const dir = await tempDir();
    const configPath = join(dir, "config.json");
    const original = originalConfig(50);
    await writeFile(configPath, original);
    const dry = start(configPath, 0);
    await new Promise((resolve) => dry.child.once("exit", resolve));
    expect(JSON.parse(await readFile(configPath, "utf8")).auths[SERVER].auth, dry.output()).toBe(
      b64("newuser:new-password"),
    );
    const stages = (dry.output().match(/^stage \d+ .*$/gm) ?? []).map((line) => line.slice(6));
    expect(stages.some((line) => / rename$/.test(line))).toBe(true);

    const seen = new Set<string>();
    for (let at = 1; at <= stages.length; at++) {
      await writeFile(configPath, original);
      const started = performance.now();
      const run = start(configPath, at);
      await waitFor(run.output, run.child, /paused|done|logged in/);
      await kill(run.child);
      const problem = await judge(
        configPath,
        original,
        (decoded) => decoded === "olduser:old-password" || decoded === "newuser:new-password",
      );
      const ms = performance.now() - started;
      if (problem) tally.corrupt(`${what} killed at call ${at} (${stages[at - 1]}): ${problem}`);
      tally.verified(ms);
      seen.add(JSON.parse(await readFile(configPath, "utf8")).auths[SERVER].auth);
    }
    // Killed before the rename: the old file; after it: the new one. Both were seen.
    expect(seen).toEqual(new Set([b64("olduser:old-password"), b64("newuser:new-password")]));
  }

  it("@hoist/authn's login killed at each file-system call: the config is the old one or the new one", async () => {
    await killAtEachCall("login()", (configPath, pauseAt) =>
      startChild({ CONFIG_PATH: configPath, MODE: "once", PAUSE_AT: String(pauseAt) }),
    );
    expectClean(tally);
  });

  it("`hoist auth login` killed at each file-system call: the config is the old one or the new one", async () => {
    expect(existsSync(CLI), "build the CLI first (turbo builds it before this test)").toBe(true);
    await killAtEachCall("hoist auth login", (configPath, pauseAt) =>
      startChild({ DOCKER_CONFIG: dirname(configPath), PAUSE_AT: String(pauseAt), NO_COLOR: "1" }, [
        CLI,
        "auth",
        "login",
        SERVER,
        "-u",
        "newuser",
        "-p",
        "new-password",
      ]),
    );
    expectClean(tally);
  });

  it("at seeded random moments while logging in over and over, the config stays whole", async () => {
    const dir = await tempDir();
    const configPath = join(dir, "config.json");
    // About a megabyte, so a kill often lands inside a write.
    const original = originalConfig(12_000);
    const runs = Math.max(10, size.runs * 5);
    const random = seededRandom(0x9e3779b9);
    let interrupted = 0;
    for (let run = 0; run < runs; run++) {
      await writeFile(configPath, original);
      const started = performance.now();
      const child = startChild({ CONFIG_PATH: configPath, MODE: "loop" });
      await waitFor(child.output, child.child, /ready/);
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(random() * 150)));
      await kill(child.child);
      const wrote = [...child.output().matchAll(/^wrote (\d+)$/gm)].map((m) => Number(m[1]));
      const last = wrote.length ? Math.max(...wrote) : 0;
      const problem = await judge(configPath, original, (decoded) => {
        if (decoded === "olduser:old-password") return last === 0;
        const match = /^user(\d+):password-(\d+)$/.exec(decoded);
        // A complete login the child reported, or the one it was in the middle of.
        return (
          !!match &&
          match[1] === match[2] &&
          Number(match[1]) >= last &&
          Number(match[1]) <= last + 1
        );
      });
      // Interrupted inside a login: file-system calls after the last completed one.
      const tail =
        child
          .output()
          .split(/^wrote \d+$/m)
          .pop() ?? "";
      if (/^stage /m.test(tail)) interrupted++;
      const ms = performance.now() - started;
      if (problem) tally.corrupt(`run ${run}: ${problem}`);
      tally.verified(ms);
    }
    const leftovers = (await readdir(dir)).filter((name) => name !== "config.json");
    // Interrupted writes may leave a hidden temporary file beside config.json, never a partial config.
    expect(leftovers.every((name) => name.startsWith(".config.json."))).toBe(true);
    expect(interrupted).toBeGreaterThan(0);
    expectClean(tally);
  });
});
