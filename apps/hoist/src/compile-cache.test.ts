import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compileCacheDir, loadBundle } from "./compile-cache.js";

// Each load here is a fresh process's load: without this, V8 hands a script compiled earlier in
// this process the same code again and never looks at the cache given to it.
setFlagsFromString("--no-compilation-cache");

describe("compileCacheDir", () => {
  const home = "/home/u";

  it("follows XDG_CACHE_HOME when absolute, else ~/.cache", () => {
    expect(compileCacheDir({ env: { XDG_CACHE_HOME: "/x" }, platform: "linux", home })).toBe(
      "/x/hoist/compile-cache",
    );
    expect(compileCacheDir({ env: { XDG_CACHE_HOME: "rel" }, platform: "linux", home })).toBe(
      "/home/u/.cache/hoist/compile-cache",
    );
    expect(compileCacheDir({ env: {}, platform: "linux", home })).toBe(
      "/home/u/.cache/hoist/compile-cache",
    );
  });

  it("uses the platform's cache folder on macOS and Windows", () => {
    expect(compileCacheDir({ env: {}, platform: "darwin", home })).toBe(
      "/home/u/Library/Caches/hoist/compile-cache",
    );
    expect(
      compileCacheDir({ env: { LOCALAPPDATA: "C:\\L" }, platform: "win32", home: "C:\\U" }),
    ).toMatch(/^C:\\L[\\/]hoist[\\/]compile-cache$/);
  });

  it("is off with NODE_DISABLE_COMPILE_CACHE, or without a home", () => {
    expect(
      compileCacheDir({ env: { NODE_DISABLE_COMPILE_CACHE: "1" }, platform: "linux", home }),
    ).toBeUndefined();
    expect(compileCacheDir({ env: {}, platform: "linux", home: undefined })).toBeUndefined();
  });
});

describe("loadBundle", () => {
  let dir: string;
  let cacheDir: string;
  let bundle: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hoist-compile-cache-"));
    cacheDir = join(dir, "cache", "hoist");
    bundle = join(dir, "cli.cjs");
    await writeFile(join(dir, "helper.cjs"), "module.exports = 'from helper';");
    await writeBundle("1");
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A bundle whose text differs by one character per `variant` (same length). */
  async function writeBundle(variant: string, extra = ""): Promise<void> {
    await writeFile(
      bundle,
      [
        `exports.variant = "${variant}";`,
        'exports.helper = require("./helper.cjs");',
        "exports.injected = typeof answer === 'number' ? answer : 'missing';",
        extra,
      ].join("\n"),
    );
  }

  const cacheFiles = async () => (await readdir(cacheDir).catch(() => [])).sort();

  it("runs the bundle with Node's module variables and the given globals", () => {
    const loaded = loadBundle({ path: bundle, cacheDir, globals: { answer: 42 } });
    expect(loaded.exports).toEqual({ variant: "1", helper: "from helper", injected: 42 });
    expect(loaded.cacheUsed).toBe(false);
  });

  it("writes a private cache that the next load takes", async () => {
    loadBundle({ path: bundle, cacheDir }).persist();
    const files = await cacheFiles();
    expect(files).toHaveLength(1);
    expect((await stat(cacheDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(cacheDir, files[0] as string))).mode & 0o777).toBe(0o600);
    expect(loadBundle({ path: bundle, cacheDir }).cacheUsed).toBe(true);
  });

  it("never takes the cache of other text, even of the same length", async () => {
    loadBundle({ path: bundle, cacheDir }).persist();
    await writeBundle("2");
    const other = loadBundle({ path: bundle, cacheDir });
    expect(other.exports.variant).toBe("2");
    expect(other.cacheUsed).toBe(false);
    other.persist();
    expect(await cacheFiles()).toHaveLength(2);
  });

  it("compiles as usual over a corrupt cache, and replaces it", async () => {
    loadBundle({ path: bundle, cacheDir }).persist();
    const [file] = await cacheFiles();
    const path = join(cacheDir, file as string);
    await writeFile(path, Buffer.from("not a code cache at all"));
    const loaded = loadBundle({ path: bundle, cacheDir });
    expect(loaded.exports.variant).toBe("1");
    expect(loaded.cacheUsed).toBe(false);
    loaded.persist();
    expect((await readFile(path)).toString()).not.toBe("not a code cache at all");
    expect(loadBundle({ path: bundle, cacheDir }).cacheUsed).toBe(true);
  });

  it("neither reads nor writes a cache directory others may write to", async () => {
    loadBundle({ path: bundle, cacheDir }).persist();
    await chmod(cacheDir, 0o777);
    const loaded = loadBundle({ path: bundle, cacheDir });
    expect(loaded.cacheUsed).toBe(false);
    await writeBundle("3");
    loadBundle({ path: bundle, cacheDir }).persist();
    expect(await cacheFiles()).toHaveLength(1);
  });

  it("carries on when the cache cannot be written", async () => {
    const blocked = join(dir, "a-file");
    await writeFile(blocked, "");
    const loaded = loadBundle({ path: bundle, cacheDir: join(blocked, "cache") });
    expect(() => loaded.persist()).not.toThrow();
    expect(loaded.exports.variant).toBe("1");
  });

  it("keeps one cache per variant, each holding the code its runs compiled", async () => {
    const body = Array.from({ length: 400 }, (_, i) => `t += Math.imul(t, ${i}) ^ ${i};`);
    await writeBundle(
      "1",
      `exports.pull = function () { let t = 1; ${body.join(" ")} return t; };`,
    );
    loadBundle({ path: bundle, cacheDir, variant: "version" }).persist({ refresh: false });
    const pull = loadBundle({ path: bundle, cacheDir, variant: "pull" });
    expect(pull.cacheUsed).toBe(false);
    (pull.exports.pull as () => number)();
    pull.persist();
    const [pulls, versions] = await cacheFiles();
    expect(pulls).toMatch(/^cli\.cjs-[0-9a-f]{32}-pull\.v8$/);
    expect(versions).toMatch(/^cli\.cjs-[0-9a-f]{32}-version\.v8$/);
    const size = async (name: string | undefined) => (await stat(join(cacheDir, name ?? ""))).size;
    expect(await size(pulls)).toBeGreaterThan((await size(versions)) * 1.1);
    expect(loadBundle({ path: bundle, cacheDir, variant: "version" }).cacheUsed).toBe(true);
    // Anything but a short lower-case word shares one cache.
    loadBundle({ path: bundle, cacheDir, variant: "../x" }).persist();
    loadBundle({ path: bundle, cacheDir, variant: "Push" }).persist();
    expect((await cacheFiles()).filter((name) => name.endsWith("-any.v8"))).toHaveLength(1);
    expect(await cacheFiles()).toHaveLength(3);
  });

  it("grows once, after the first long run, and is not looked at again", async () => {
    const body = Array.from({ length: 400 }, (_, i) => `t += Math.imul(t, ${i}) ^ ${i};`);
    await writeBundle(
      "1",
      [
        `exports.first = function () { let t = 1; ${body.join(" ")} return t; };`,
        `exports.second = function () { let t = 2; ${body.join(" ")} return t; };`,
      ].join("\n"),
    );
    loadBundle({ path: bundle, cacheDir, variant: "push" }).persist({ refresh: false });
    const [file] = await cacheFiles();
    const path = join(cacheDir, file as string);
    const flag = async () => (await readFile(path)).toString("latin1", 19, 21);
    const short = (await stat(path)).size;
    expect(await flag()).toBe("0\n");

    // Short runs never write a cache they could use.
    const quick = loadBundle({ path: bundle, cacheDir, variant: "push" });
    (quick.exports.first as () => number)();
    quick.persist({ refresh: false });
    expect((await stat(path)).size).toBe(short);

    const long = loadBundle({ path: bundle, cacheDir, variant: "push" });
    expect(long.cacheUsed).toBe(true);
    (long.exports.first as () => number)();
    long.persist();
    const grown = (await stat(path)).size;
    expect(grown).toBeGreaterThan(short * 1.1);
    expect(await flag()).toBe("1\n");

    // Whatever a later long run compiles, the cache is not taken again (8-11 ms saved).
    const later = loadBundle({ path: bundle, cacheDir, variant: "push" });
    expect(later.cacheUsed).toBe(true);
    (later.exports.second as () => number)();
    later.persist();
    expect((await stat(path)).size).toBe(grown);
  });

  it("takes no cache without its header, and replaces it", async () => {
    const plain = loadBundle({ path: bundle, cacheDir });
    plain.persist();
    const [file] = await cacheFiles();
    const path = join(cacheDir, file as string);
    const whole = await readFile(path);
    // V8's data alone, as an earlier hoist wrote it under this name.
    await writeFile(path, whole.subarray(whole.indexOf(0x0a) + 1), { mode: 0o600 });
    const loaded = loadBundle({ path: bundle, cacheDir });
    expect(loaded.cacheUsed).toBe(false);
    loaded.persist({ refresh: false });
    expect(await readFile(path)).toHaveLength(whole.length);
    expect(loadBundle({ path: bundle, cacheDir }).cacheUsed).toBe(true);
  });

  it("deletes caches of other builds left unused for a month, and keeps recent ones", async () => {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const old = join(cacheDir, "cli.cjs-00000000000000000000000000000000.v8");
    const recent = join(cacheDir, "cli.cjs-11111111111111111111111111111111.v8");
    const unrelated = join(cacheDir, "notes.txt");
    for (const path of [old, recent, unrelated]) await writeFile(path, "x");
    const longAgo = new Date(Date.now() - 40 * 24 * 60 * 60 * 1000);
    for (const path of [old, unrelated]) await utimes(path, longAgo, longAgo);
    loadBundle({ path: bundle, cacheDir }).persist();
    const files = await cacheFiles();
    expect(files).toContain("notes.txt");
    expect(files).toContain("cli.cjs-11111111111111111111111111111111.v8");
    expect(files).not.toContain("cli.cjs-00000000000000000000000000000000.v8");
    expect(files).toHaveLength(3);
  });

  it("removes its partial file when the cache cannot be put in place", async () => {
    loadBundle({ path: bundle, cacheDir }).persist();
    const [file] = await cacheFiles();
    const path = join(cacheDir, file as string);
    // A directory where the cache belongs makes the final rename fail.
    await rm(path);
    await mkdir(join(path, "occupied"), { recursive: true });
    loadBundle({ path: bundle, cacheDir }).persist();
    expect(await cacheFiles()).toEqual([file]);
  });

  it("leaves no partial files behind", async () => {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    for (let i = 0; i < 3; i++) loadBundle({ path: bundle, cacheDir }).persist();
    expect((await cacheFiles()).filter((name) => name.endsWith(".partial"))).toEqual([]);
  });
});
