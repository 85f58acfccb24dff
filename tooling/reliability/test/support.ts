import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect, inject } from "vitest";
import { Tally } from "../src/index.js";

/**
 * A tally for one scenario, saved for the results table after the file's tests. Call
 * {@link expectClean} at the end of each test so that the test itself fails too.
 */
export function useTally(scenario: string, options: { boundMs?: number } = {}): Tally {
  const tally = new Tally(scenario, options);
  afterAll(async () => {
    await tally.save(inject("reliabilityResults"));
  });
  return tally;
}

/** No untyped failure, corrupt output or leak so far, and at least one run. */
export function expectClean(tally: Tally): void {
  expect(tally.problems, `${tally.result.scenario} found problems`).toEqual([]);
  expect(tally.result.runs, `${tally.result.scenario} recorded no runs`).toBeGreaterThan(0);
}

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const fileDirs: string[] = [];
afterAll(async () => {
  await Promise.all(fileDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh directory that lives until the file's tests are done (for beforeAll). */
export async function fileTempDir(prefix = "hoist-reliability-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  fileDirs.push(dir);
  return dir;
}

/** A fresh directory, removed after the test. */
export async function tempDir(prefix = "hoist-reliability-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
