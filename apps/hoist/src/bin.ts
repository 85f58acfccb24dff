// The `hoist` executable (dist/hoist.cjs). It sets V8's flags, then runs the CLI from dist/cli.cjs
// through the code cache (compile-cache.ts) and writes the cache as the process exits. It is a
// CommonJS file: Node reaches the first line of one 3-4 ms sooner than an ES module's, which
// sets up the ES module loader first (2-core machine, 30 alternating runs).
import { homedir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { compileCacheDir, loadBundle } from "./compile-cache.js";

// undici parses HTTP with WebAssembly (llhttp). V8 compiles it quickly for a start and then
// optimises it again in the background, and a process waits for that optimising compile before
// it exits: 30 MiB of memory and 0.1-0.4 s after the last byte of every command on the 2-core
// machine. The quick compile is fast enough for bulk bodies too (receiving 1 GiB took less CPU
// with it: 280-375 ms against 415-470 ms, the optimising compile included), so the executable
// keeps V8 to it. Only the executable: programs that import the package keep their settings.
setFlagsFromString("--liftoff-only");
// The young generation stays at its starting size. Every 64 KiB read from a socket is a new
// buffer; V8 frees them at its young-generation collections, which come later and later as that
// generation grows, so tens of MiB of spent buffers piled up. Kept small, it is collected more
// often and cheaply: on the 2-core machine a 1 GiB pull peaked at 81 MiB instead of 104 MiB and
// took a quarter less CPU (2.5 s against 3.4 s); pushes and copies likewise.
setFlagsFromString("--semi-space-growth-factor=1");
// Even so, a transfer allocates so few objects besides its buffers that spent ones pile up
// between collections: the CLI asks for a young-generation collection every 8 MiB moved
// (collection-pacing.ts). gc() exists only in contexts made while --expose-gc is on, so one is
// made for it, on the first request (commands that move no bytes never pay for the context),
// and the flag is turned off again. A Node that offers none runs without.
type MinorGc = (options: { type: "minor" }) => void;
let minorGc: MinorGc | null | undefined;
function collectYoungGeneration(): void {
  if (minorGc === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      const gc: unknown = runInNewContext("typeof gc === 'function' ? gc : undefined");
      minorGc = typeof gc === "function" ? (gc as MinorGc) : null;
    } catch {
      minorGc = null;
    } finally {
      setFlagsFromString("--no-expose-gc");
    }
  }
  minorGc?.({ type: "minor" });
}

/** A run this long can spare the 3-11 ms it takes, once per command, to let the cache grow. */
const REFRESH_AFTER_MS = 250;

function home(): string | undefined {
  try {
    return homedir();
  } catch {
    return undefined;
  }
}

// Each command keeps the code it runs (the first argument that is not an option names it).
const command = process.argv.slice(2).find((arg) => !arg.startsWith("-"));
const bundle = loadBundle({
  path: join(__dirname, "cli.cjs"),
  cacheDir: compileCacheDir({ env: process.env, platform: process.platform, home: home() }),
  // The bundle's stand-in for optional-import.ts: an import() from this file.
  globals: {
    __hoistImportOptional: (specifier: string) => import(specifier),
    __hoistCollectYoung: collectYoungGeneration,
  },
  ...(command === undefined ? {} : { variant: command }),
});
// process.uptime, not performance.now: the global `performance` loads perf_hooks on first use,
// 1-1.5 ms that every command would pay as it exits.
process.on("exit", () => bundle.persist({ refresh: process.uptime() * 1000 > REFRESH_AFTER_MS }));
(bundle.exports.main as () => Promise<void>)().catch((error: unknown) => {
  // main() turns every command's failure into an exit status; this is a bug in hoist itself.
  console.error(error);
  process.exit(1);
});
