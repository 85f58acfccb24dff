import { once, setMaxListeners } from "node:events";
import { quietDependencyWarnings } from "./dependency-warnings.js";
import { run } from "./run.js";

/**
 * The `hoist` executable: runs process.argv, turns Ctrl-C (SIGINT) and SIGTERM into an abort of
 * the running command, and sets the exit status without cutting pending output short.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  // Every transfer in flight listens on the command's signal (its request, its body stream), so
  // a copy with 4 jobs has a dozen listeners at times: bounded by --jobs, not a leak, and not
  // worth Node's MaxListenersExceededWarning on stderr.
  setMaxListeners(0, controller.signal);
  quietDependencyWarnings({ verbose: argv.includes("-v") || argv.includes("--verbose") });
  const stop = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      // A second Ctrl-C means "now".
      process.exit(130);
    }
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  // A reader that goes away (`hoist ls repo | head -1`) is not an error worth a stack.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  let status: number;
  try {
    status = await run(argv, { signal: controller.signal });
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  // Exit as soon as the output is out. Left to itself, Node lingers for 100-300 ms after the
  // last connection closed (undici's background work), which is most of a `hoist digest`.
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.writableNeedDrain) await once(stream, "drain");
  }
  process.exit(status);
}
