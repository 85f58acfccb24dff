import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { formatCodes, formatTable, readResults, suiteSize, verdict } from "../src/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Where each scenario saves its counts for the results table. */
    reliabilityResults: string;
  }
}

let dir: string | undefined;
let started = 0;

export async function setup(project: TestProject): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), "hoist-reliability-"));
  started = performance.now();
  project.provide("reliabilityResults", dir);
}

/** Prints the results table and fails the suite on any untyped failure, corrupt output or leak. */
export async function teardown(): Promise<void> {
  if (!dir) return;
  const results = await readResults(dir);
  await rm(dir, { recursive: true, force: true });
  const size = suiteSize();
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  const table = formatTable(results);
  const title =
    `hoist reliability suite, ${size.full ? "full" : "CI"} size ` +
    `(HOIST_RELIABILITY_RUNS=${size.runs}, ${size.fuzzRuns} inputs per parser), ${minutes} min`;
  const codes = formatCodes(results);
  const text = `${title}\n\n${table}\n\nTyped failures by code:\n${codes}\n`;
  console.log(`\n${text}`);
  const out = process.env.HOIST_RELIABILITY_TABLE;
  if (out) await writeFile(out, text);
  const reasons = verdict(results);
  if (results.length === 0) reasons.push("no scenario recorded any run");
  if (reasons.length > 0) {
    // vitest reports an error thrown here but still exits 0; the exit code must say it.
    console.error(`the reliability suite found problems:\n${reasons.join("\n")}`);
    process.exitCode = 1;
  }
}
