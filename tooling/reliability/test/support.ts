import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { Image } from "@hoist/oci";
import { openTarball } from "@hoist/tarball";
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

/**
 * What makes an OCI layout less than whole: a blob whose bytes do not hash to its name, or an
 * index.json that does not parse (an absent one is fine: nothing was written).
 */
export async function layoutProblems(path: string): Promise<string[]> {
  const problems: string[] = [];
  const blobs = join(path, "blobs", "sha256");
  for (const name of await readdir(blobs).catch(() => [] as string[])) {
    const hash = createHash("sha256")
      .update(await readFile(join(blobs, name)))
      .digest("hex");
    if (hash !== name) problems.push(`blobs/sha256/${name} holds other bytes (${hash})`);
  }
  if (existsSync(join(path, "index.json"))) {
    try {
      JSON.parse(await readFile(join(path, "index.json"), "utf8"));
    } catch (error) {
      problems.push(`index.json does not parse: ${(error as Error).message}`);
    }
  }
  return problems;
}

/**
 * Opens a docker tarball and reads every layer to its end (a tarball verifies digests as the
 * bytes go by, so a lie surfaces only once everything was read); closes it whatever happens.
 */
export async function readWholeTarball(source: string | Readable): Promise<Image> {
  const tarball = await openTarball(source);
  try {
    const image = await tarball.image();
    for (const layer of await image.layers()) {
      for await (const _ of await layer.uncompressed()) {
        // drain
      }
    }
    return image;
  } finally {
    await tarball.close();
  }
}
