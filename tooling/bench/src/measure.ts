import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

export const TIME_BINARY = "/usr/bin/time";

export interface Command {
  command: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
}

export interface Measurement {
  wallMs: number;
  /** Peak resident set size of the process (and any children it waited for), in KiB. */
  maxRssKiB: number;
  /** User plus system CPU time of the process and its children, in milliseconds. */
  cpuMs: number;
  /** The system part of `cpuMs`. */
  systemMs: number;
  /** Pages the process touched for the first time (minor page faults). */
  minorFaults: number;
  /** Times the process waited (voluntary switches) and was preempted (involuntary ones). */
  voluntarySwitches: number;
  involuntarySwitches: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Variables removed from every measured command's environment. NODE_EXTRA_CA_CERTS makes each
 * Node process parse a CA bundle at start-up (about 70 ms on the 2-core machine, more than
 * Node's own start), and NODE_OPTIONS could change how Node runs; a default install has neither.
 */
export const STRIPPED_ENV = ["NODE_EXTRA_CA_CERTS", "NODE_OPTIONS"] as const;

export function childEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of STRIPPED_ENV) delete env[name];
  return env;
}

// GNU time's fields: maximum RSS in KiB, user and system seconds, exit status, minor page
// faults, voluntary and involuntary context switches.
const TIME_FORMAT = "hoist-bench %M %U %S %x %R %w %c";

type TimeOutput = Omit<Measurement, "wallMs" | "stdout" | "stderr">;

/** Reads the line GNU time wrote with {@link TIME_FORMAT}. */
export function parseTimeOutput(text: string): TimeOutput {
  const line = text
    .split("\n")
    .reverse()
    .find((candidate) => candidate.startsWith("hoist-bench "));
  const fields = line?.split(" ").slice(1).map(Number);
  if (fields?.length !== 7 || fields.some((value) => !Number.isFinite(value)))
    throw new Error(`cannot read GNU time's output: ${JSON.stringify(text.slice(-500))}`);
  const [maxRssKiB, user, system, exitCode, minorFaults, voluntarySwitches, involuntarySwitches] =
    fields as [number, number, number, number, number, number, number];
  return {
    maxRssKiB,
    cpuMs: Math.round((user + system) * 1000),
    systemMs: Math.round(system * 1000),
    exitCode,
    minorFaults,
    voluntarySwitches,
    involuntarySwitches,
  };
}

const OUTPUT_CAP = 8 * 1024 * 1024;

/**
 * Runs a command under GNU time, which reports the child's own rusage (peak RSS, CPU) as the
 * kernel counted it; the wall time is measured here from spawn to exit. Output is kept (capped)
 * because some scenarios check what the tool printed.
 */
export async function measure(
  command: Command,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Measurement> {
  const timeFile = join(tmpdir(), `hoist-bench-time-${randomUUID()}`);
  const start = performance.now();
  const child = spawn(
    TIME_BINARY,
    ["-f", TIME_FORMAT, "-o", timeFile, command.command, ...command.args],
    {
      cwd: command.cwd,
      env: childEnvironment(command.env),
      stdio: ["ignore", "pipe", "pipe"],
      signal: options.signal,
      timeout: options.timeoutMs,
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    if (stdout.length < OUTPUT_CAP) stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-OUTPUT_CAP);
  });
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const wallMs = performance.now() - start;
  try {
    const timed = parseTimeOutput(await readFile(timeFile, "utf8"));
    return { ...timed, wallMs, exitCode, stdout, stderr };
  } finally {
    await rm(timeFile, { force: true });
  }
}

/** The exit code and the end of stderr, for an error message about a failed run. */
export function describeFailure(command: Command, result: Measurement): string {
  const tail = result.stderr.trim().split("\n").slice(-8).join("\n");
  return `${[command.command, ...command.args].join(" ")} exited with ${result.exitCode}${tail ? `:\n${tail}` : ""}`;
}
