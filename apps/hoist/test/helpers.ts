import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";

/** The built executable: tests run hoist as a user does, in a child process. */
export const HOIST_BIN = join(dirname(fileURLToPath(import.meta.url)), "../dist/hoist.cjs");

export interface CliResult {
  status: number;
  stdout: Buffer;
  stderr: string;
  /** stdout as text. */
  out: string;
}

export interface RunCliOptions {
  env?: Record<string, string | undefined>;
  stdin?: string | Buffer;
  cwd?: string;
  timeoutMs?: number;
  /** Options for node itself, before the executable (e.g. --trace-gc). */
  nodeArgs?: readonly string[];
}

/** An environment with no credentials of the machine's user: HOME and DOCKER_CONFIG are temp. */
export function isolatedEnv(home: string, extra: Record<string, string | undefined> = {}) {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: home,
    DOCKER_CONFIG: join(home, ".docker"),
    XDG_RUNTIME_DIR: join(home, "run"),
    XDG_CONFIG_HOME: join(home, ".config"),
    TMPDIR: process.env.TMPDIR,
    NO_COLOR: "1",
    ...extra,
  };
  return env;
}

export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), HOIST_BIN, ...args], {
      env: Object.fromEntries(
        Object.entries(options.env ?? process.env).filter(([, v]) => v !== undefined),
      ) as NodeJS.ProcessEnv,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      resolve({
        status: code ?? (signal ? 128 : 1),
        stdout,
        out: stdout.toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/** A temporary directory for one test file, removed afterwards. */
export function useTempDir(prefix = "hoist-cli-"): () => string {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}

export async function writeDockerConfig(home: string, config: unknown): Promise<string> {
  const { mkdir } = await import("node:fs/promises");
  const dir = join(home, ".docker");
  await mkdir(dir, { recursive: true });
  const path = join(dir, "config.json");
  await writeFile(path, JSON.stringify(config, null, "\t"));
  return path;
}

/** Asserts the shape every failure has: status 1, nothing on stdout, one line on stderr. */
export function expectOneLineError(result: CliResult): string {
  if (result.status !== 1) {
    throw new Error(`expected exit status 1, got ${result.status}; stderr: ${result.stderr}`);
  }
  if (result.stdout.length !== 0) throw new Error(`expected no stdout, got ${result.out}`);
  const lines = result.stderr.trimEnd().split("\n");
  if (lines.length !== 1 || !lines[0]?.startsWith("Error: ")) {
    throw new Error(`expected one "Error: " line on stderr, got:\n${result.stderr}`);
  }
  return lines[0];
}
