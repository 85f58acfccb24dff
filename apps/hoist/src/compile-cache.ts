// Node 20 keeps no compiled code between runs (module.enableCompileCache() arrived in 22.1), so
// every command used to parse and compile the CLI's ~1.3 MB of JavaScript again: about a third
// of a `hoist digest`. The executable instead runs the CLI as one CommonJS bundle through
// vm.Script with V8's code cache, kept per user under the cache directory. V8 rejects a cache
// made by another V8 version or with other flags, and the file name carries a hash of the
// bundle's text (V8's own check only compares lengths), so a stale cache is never used: the
// bundle is then compiled as usual and the cache written anew. Each command keeps its own cache:
// V8 deserialises all of a cache before running anything, so `hoist version` loading what a
// pull compiled took twice as long (10 against 5 ms for 1.3 against 0.45 MB).
import { isAscii } from "node:buffer";
import { createHash } from "node:crypto";
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, isAbsolute, join } from "node:path";
import { Script } from "node:vm";

/** Where the code cache lives, or undefined when it is turned off or there is no home. */
export function compileCacheDir(options: {
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  home: string | undefined;
}): string | undefined {
  const { env, platform, home } = options;
  // Node's own switch for its compile cache means the same here.
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  if (platform === "win32") {
    const base = env.LOCALAPPDATA || (home ? join(home, "AppData", "Local") : undefined);
    return base ? join(base, "hoist", "compile-cache") : undefined;
  }
  if (!home) return undefined;
  if (platform === "darwin") return join(home, "Library", "Caches", "hoist", "compile-cache");
  // The XDG base directory spec: a relative path is invalid and to be ignored.
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(home, ".cache");
  return join(base, "hoist", "compile-cache");
}

/** The parameters the bundle's text is wrapped in, as Node wraps a CommonJS module. */
const PARAMETERS = ["exports", "require", "module", "__filename", "__dirname"] as const;

export interface LoadedBundle {
  /** The bundle's `module.exports`. */
  exports: Record<string, unknown>;
  /** Whether a cache was found and V8 took it. */
  cacheUsed: boolean;
  /**
   * Writes the cache when there was none to use, and once more after the first long run (a
   * first run that failed early caches little of what the command needs). Call it as the
   * process exits; it never throws.
   */
  persist(options?: PersistOptions): void;
}

export interface PersistOptions {
  /**
   * Whether this run may add what it compiled to a cache it used: worth it after a long run,
   * and done once per cache (a second pull compiles what the first did, and taking V8's data
   * costs 8-11 ms at the end of a push). Default true.
   */
  refresh?: boolean;
}

export interface LoadBundleOptions {
  /** The CommonJS bundle. */
  path: string;
  /** The cache directory (see compileCacheDir); undefined runs without a cache. */
  cacheDir: string | undefined;
  /** Extra free variables the bundle's text refers to, passed in after Node's five. */
  globals?: Readonly<Record<string, unknown>>;
  /**
   * What this run will do (the CLI's command): each kind of run has its own cache, holding only
   * the code it runs. Anything but a short lower-case word shares one cache.
   */
  variant?: string;
}

/**
 * Owned by this user and writable by no one else: a cache is code that runs, so one that someone
 * else could have written is not used. (Windows keeps the cache under the user's own profile.)
 */
function trusted(info: Stats): boolean {
  if (typeof process.getuid !== "function") return true;
  return info.uid === process.getuid() && (info.mode & 0o022) === 0;
}

/**
 * A cache file starts with this, then "1" once a long run has looked at whether it should grow
 * ("0" before), a newline and V8's data.
 */
const FORMAT = "hoist-code-cache 3 ";
const HEADER = Buffer.from(FORMAT, "latin1");
const VARIANT = /^[a-z][a-z0-9-]{0,31}$/;

interface CacheFile {
  data: Buffer;
  refreshed: boolean;
}

function parseCache(bytes: Buffer): CacheFile | undefined {
  const flag = bytes[HEADER.length];
  if (!bytes.subarray(0, HEADER.length).equals(HEADER) || bytes[HEADER.length + 1] !== 0x0a) {
    return undefined;
  }
  if (flag !== 0x30 && flag !== 0x31) return undefined;
  return { data: bytes.subarray(HEADER.length + 2), refreshed: flag === 0x31 };
}

function readCache(dir: string, file: string): CacheFile | undefined {
  try {
    if (!trusted(statSync(dir))) return undefined;
    const fd = openSync(join(dir, file), "r");
    try {
      return trusted(fstatSync(fd)) ? parseCache(readFileSync(fd)) : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Caches of other builds (or other Node versions) left alone this long are deleted. */
const UNUSED_FOR_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Each upgrade of hoist or Node leaves a cache (~1 MB) that nothing reads again; those not
 * written for a month go. Recent ones stay: two installed versions in turn keep both.
 */
function pruneOldCaches(dir: string, keep: string, now: number): void {
  for (const name of readdirSync(dir)) {
    if (name.startsWith(keep) || !(name.endsWith(".v8") || name.endsWith(".partial"))) continue;
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > UNUSED_FOR_MS) unlinkSync(path);
    } catch {
      // Gone already, or not ours to delete.
    }
  }
}

function writeCache(dir: string, file: string, cache: CacheFile): void {
  let partial: string | undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!trusted(statSync(dir))) return;
    // Whole or not at all: concurrent commands each rename their own finished file into place.
    partial = join(dir, `.${file}.${process.pid}.partial`);
    const flag = Buffer.from(cache.refreshed ? "1\n" : "0\n", "latin1");
    writeFileSync(partial, Buffer.concat([HEADER, flag, cache.data]), { mode: 0o600 });
    renameSync(partial, join(dir, file));
    partial = undefined;
    // This build's caches (one per command) stay, however long ago they were written.
    pruneOldCaches(dir, file.slice(0, file.lastIndexOf("-") + 1), Date.now());
  } catch {
    // A read-only or full disk only costs the next run its head start.
    if (partial) rmSync(partial, { force: true });
  }
}

/** Compiles and runs a CommonJS bundle, with V8's code cache when `cacheDir` is given. */
export function loadBundle(options: LoadBundleOptions): LoadedBundle {
  const bytes = readFileSync(options.path);
  // esbuild writes ASCII, which decodes fastest as latin1 (the same text).
  const source = bytes.toString(isAscii(bytes) ? "latin1" : "utf8");
  const globals = Object.entries(options.globals ?? {});
  const names = [...PARAMETERS, ...globals.map(([name]) => name)];
  const key = createHash("sha256")
    .update(`${FORMAT}${process.version}\0${process.arch}\0${names.join(",")}\0`)
    .update(bytes)
    .digest("hex")
    .slice(0, 32);
  const variant =
    options.variant !== undefined && VARIANT.test(options.variant) ? options.variant : "any";
  const file = `${basename(options.path)}-${key}-${variant}.v8`;
  const cached = options.cacheDir ? readCache(options.cacheDir, file) : undefined;
  const script = new Script(`(function (${names.join(", ")}) {${source}\n})`, {
    filename: options.path,
    ...(cached ? { cachedData: cached.data } : {}),
  });
  const cacheUsed = cached !== undefined && !script.cachedDataRejected;
  const module = { exports: {} as Record<string, unknown> };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(
    module.exports,
    createRequire(options.path),
    module,
    options.path,
    dirname(options.path),
    ...globals.map(([, value]) => value),
  );
  return {
    exports: module.exports,
    cacheUsed,
    persist({ refresh = true } = {}) {
      const dir = options.cacheDir;
      if (!dir) return;
      try {
        if (cacheUsed && (!refresh || cached?.refreshed)) return;
        // Written when there was none, and once more after a long run, with all it compiled.
        writeCache(dir, file, { data: script.createCachedData(), refreshed: refresh });
      } catch {
        // As in writeCache: the cache is an optimisation, never a failure.
      }
    },
  };
}
