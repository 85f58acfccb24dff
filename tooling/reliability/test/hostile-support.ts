import { expect } from "vitest";
import { type Tally, timedRun, treeChanges, treeSnapshot } from "../src/index.js";

export interface HostileCase {
  /** What the run must end in: a typed error, a verified success, or either. */
  expect: "typed" | "verified" | "either";
  /** Paths (relative to the sandbox) the run may write to. Everything else must not change. */
  allowed?: readonly string[];
  /** Checks after the run (told whether it failed); each string is a corrupt output. */
  check?: (failed: boolean) => Promise<string[]>;
}

/**
 * Runs one hostile case in a sandbox directory: within the bound, ending as expected (an
 * unexpected success or an untyped failure is counted against it), nothing written outside
 * what it may write, and whatever `check` finds counted as corrupt output.
 */
export async function hostileRun(
  tally: Tally,
  name: string,
  sandbox: string,
  options: HostileCase,
  body: (signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  const before = await treeSnapshot(sandbox);
  const report = await timedRun({ boundMs: tally.result.boundMs || 30_000 }, async (signal) => {
    await body(signal);
  });
  if (report.outcome === "finished") {
    if (options.expect === "typed") {
      tally.untyped(`${name}: succeeded, but it must fail with a typed error`, report.durationMs);
    } else tally.verified(report.durationMs);
  } else if (
    report.outcome === "failed" &&
    report.classification.typed &&
    options.expect === "verified"
  ) {
    tally.untyped(`${name}: failed with ${report.classification.code}`, report.durationMs);
  } else {
    tally.failure(report, name);
  }
  const changes = treeChanges(before, await treeSnapshot(sandbox), {
    allowed: options.allowed ?? [],
  });
  for (const change of changes) tally.corrupt(`${name}: ${change} outside its target`);
  if (process.env.HOIST_RELIABILITY_VERBOSE) {
    const code =
      report.outcome === "failed" && report.classification.typed
        ? report.classification.code
        : report.outcome;
    console.log(
      `${name} -> ${code}${report.outcome === "failed" ? `: ${String((report.error as Error)?.message).slice(0, 160)}` : ""}`,
    );
  }
  const failed = report.outcome !== "finished";
  for (const problem of (await options.check?.(failed)) ?? []) tally.corrupt(`${name}: ${problem}`);
}

/** The last failure's code, for tests that want to pin it. */
export function lastCodes(tally: Tally): Record<string, number> {
  expect(tally.result.runs).toBeGreaterThan(0);
  return tally.result.codes;
}
