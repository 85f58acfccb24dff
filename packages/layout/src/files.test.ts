import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LayoutError } from "./errors.js";
import { TEMP_PREFIX, writeFilesAtomic } from "./files.js";

const made: string[] = [];
afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "hoist-files-"));
  made.push(dir);
  return dir;
}
const leftovers = async (dir: string) =>
  (await readdir(dir)).filter((name) => name.startsWith(TEMP_PREFIX));

describe("writeFilesAtomic", () => {
  it("replaces every file, leaving no temporary file behind", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a"), "old a");
    await writeFilesAtomic(
      [
        { path: join(dir, "a"), data: "new a" },
        { path: join(dir, "b"), data: new TextEncoder().encode("new b") },
      ],
      { operation: "test" },
    );
    expect(await readFile(join(dir, "a"), "utf8")).toBe("new a");
    expect(await readFile(join(dir, "b"), "utf8")).toBe("new b");
    expect(await leftovers(dir)).toEqual([]);
  });

  it("replaces none of them when one cannot be written", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a"), "old a");
    const error = await writeFilesAtomic(
      [
        { path: join(dir, "a"), data: "new a" },
        { path: join(dir, "missing", "b"), data: "new b" },
      ],
      { operation: "test" },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LayoutError);
    expect(error).toMatchObject({
      code: "HOIST_LAYOUT_WRITE_FAILED",
      path: join(dir, "missing", "b"),
    });
    expect(await readFile(join(dir, "a"), "utf8")).toBe("old a");
    expect(await leftovers(dir)).toEqual([]);
  });

  it("keeps the order of the renames: one that fails leaves the later files untouched", async () => {
    const dir = await tempDir();
    // A directory where the first file goes makes its rename fail.
    await mkdir(join(dir, "a", "child"), { recursive: true });
    const error = await writeFilesAtomic(
      [
        { path: join(dir, "a"), data: "new a" },
        { path: join(dir, "b"), data: "new b" },
      ],
      { operation: "test" },
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "HOIST_LAYOUT_WRITE_FAILED", path: join(dir, "a") });
    expect((await readdir(dir)).sort()).toEqual(["a"]);
  });

  it("stops with the abort's reason before renaming anything", async () => {
    const dir = await tempDir();
    const controller = new AbortController();
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(
      writeFilesAtomic([{ path: join(dir, "a"), data: "a" }], {
        operation: "test",
        signal: controller.signal,
      }),
    ).rejects.toBe(reason);
    expect(await readdir(dir)).toEqual([]);
  });
});
