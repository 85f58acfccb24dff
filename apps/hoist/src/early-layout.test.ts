import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLayout } from "./early-layout.js";

let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "hoist-early-layout-"));
});
afterAll(() => rm(base, { recursive: true, force: true }));

describe("startLayout", () => {
  it("makes a new layout early, and discard() removes all of it", async () => {
    const path = join(base, "fresh");
    const early = startLayout(path);
    const layout = await early.layout();
    expect(layout?.path).toBe(path);
    expect((await readdir(path)).sort()).toEqual(["blobs", "index.json", "oci-layout"]);
    await early.discard();
    await expect(readdir(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("leaves an existing directory to the pull, and discard() does not touch it", async () => {
    const path = join(base, "existing");
    await mkdir(path);
    await writeFile(join(path, "keep.txt"), "mine");
    const early = startLayout(path);
    expect(await early.layout()).toBeUndefined();
    await early.discard();
    expect(await readdir(path)).toEqual(["keep.txt"]);
  });

  it("does nothing early when the parent is missing (the pull creates it later)", async () => {
    const path = join(base, "missing", "deeper");
    const early = startLayout(path);
    expect(await early.layout()).toBeUndefined();
    await early.discard();
    await expect(readdir(join(base, "missing"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("keeps the directory, and what appeared in it, when something else wrote there", async () => {
    const path = join(base, "shared");
    const early = startLayout(path);
    await early.layout();
    await writeFile(join(path, "other.txt"), "not ours");
    await early.discard();
    expect(await readdir(path)).toEqual(["other.txt"]);
  });

  it("discard() waits for a layout still being made", async () => {
    const path = join(base, "racing");
    const early = startLayout(path);
    await early.discard();
    await expect(readdir(path)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
