import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Classification } from "../src/index.js";

/** The built CLI bundle, as users run it. */
export const HOIST_CLI = fileURLToPath(
  new URL("../../../apps/hoist/dist/hoist.cjs", import.meta.url),
);

export interface CliResult {
  /** Exit status; null when killed by a signal. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** True when the run was killed for passing its time limit. */
  timedOut: boolean;
}

/** Runs `hoist ARGS` as a child process with its own environment. */
export function hoist(
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number; stdin?: string } = {},
): Promise<CliResult> {
  if (!existsSync(HOIST_CLI)) {
    throw new Error(
      `${HOIST_CLI} is missing: build the CLI first (turbo builds it before this suite)`,
    );
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOIST_CLI, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({
        status,
        signal,
        stdout,
        stderr,
        durationMs: Math.round(performance.now() - started),
        timedOut,
      });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/**
 * How a failed CLI run failed. Typed: a non-zero exit with the one-line `Error: …` message, and
 * (run with -v, which prints the cause chain with codes) a hoist error with a `[HOIST_…]` code
 * in the chain and no programming error (TypeError, RangeError, …) anywhere in it. Anything
 * else (a crash, a signal, a chain without a hoist code) is untyped.
 */
export function classifyCli(result: CliResult): Classification {
  if (result.timedOut) return { typed: false, reason: "no exit within its time limit" };
  if (result.status === null) return { typed: false, reason: `killed by ${result.signal}` };
  const message = result.stderr.split("\n").find((line) => line.startsWith("Error: "));
  if (!message) {
    return {
      typed: false,
      reason: `exit ${result.status} without an "Error:" line: ${result.stderr.slice(-400)}`,
    };
  }
  const chain = result.stderr.slice(result.stderr.indexOf(message) + message.length);
  const foreign = /(^|Caused by: )(TypeError|RangeError|ReferenceError|SyntaxError)\b[^\n]*/m.exec(
    chain,
  );
  if (foreign) return { typed: false, reason: `a programming error in the chain: ${foreign[0]}` };
  const code = /\[(HOIST_[A-Z0-9_]+)\]/.exec(chain)?.[1];
  if (!code) {
    return { typed: false, reason: `no HOIST_ code in the chain of: ${message.slice(0, 300)}` };
  }
  return { typed: true, family: "hoist CLI", code };
}
