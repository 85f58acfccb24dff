import type { Readable, Writable } from "node:stream";
import { CommanderError } from "commander";
import { Context, type GlobalFlags } from "./context.js";
import { describeError, verboseDetail } from "./describe-error.js";
import { CliError } from "./errors.js";
import { normalizeBooleanFlags } from "./flags.js";
import type { Io } from "./io.js";
import { booleanFlags, buildProgram } from "./program.js";

export interface RunOptions {
  stdout?: Writable;
  stderr?: Writable;
  stdin?: Readable;
  /** Environment variables (DOCKER_CONFIG, NO_COLOR, PORT, …). Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Aborting it cancels the command (Ctrl-C). */
  signal?: AbortSignal;
}

/** Thrown by an action that has already printed what it had to say and only needs a status. */
export class ExitStatus extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`exit status ${status}`);
    this.name = "ExitStatus";
    this.status = status;
  }
}

function errorLine(io: Io, error: unknown, verbose: boolean): number {
  if (error instanceof ExitStatus) return error.status;
  io.stderr.write(`Error: ${describeError(error)}\n`);
  if (verbose) io.stderr.write(`${verboseDetail(error)}\n`);
  return CliError.is(error) ? error.exitCode : 1;
}

/**
 * Runs one hoist command line (without the program name, e.g. `["digest", "ubuntu"]`) and
 * resolves to its exit status. Results go to stdout exactly as crane prints them; logs,
 * progress and the one-line error go to stderr. Never calls process.exit.
 */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<number> {
  const io: Io = {
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    stdin: options.stdin ?? process.stdin,
    env: options.env ?? process.env,
  };
  const signal = options.signal ?? new AbortController().signal;
  let status = 0;
  let verbose = argv.includes("-v") || argv.includes("--verbose");

  const runner = async (flags: GlobalFlags, work: (context: Context) => Promise<void>) => {
    verbose = flags.verbose;
    const context = new Context(io, flags, signal);
    try {
      // A bad --platform is a usage error whatever the command, as with crane's flag parsing.
      if (flags.platform !== undefined) await context.platform();
      await work(context);
    } catch (error) {
      status = errorLine(io, error, flags.verbose);
    } finally {
      await context.close().catch((error: unknown) => {
        context.debug(`closing: ${describeError(error)}`);
      });
    }
  };

  const program = buildProgram(runner);
  program.exitOverride();
  const configure = (command: typeof program) => {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander's messages start with "error: "; print them the way every other failure is.
      outputError: (text, write) => write(`Error: ${text.replace(/^error: /, "").trimEnd()}\n`),
    });
    for (const sub of command.commands) configure(sub);
  };
  configure(program);

  try {
    const normalized = normalizeBooleanFlags(argv, booleanFlags(program));
    await program.parseAsync(normalized, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version output exit 0; usage errors were already printed by outputError.
      return error.exitCode === 0 ? 0 : 1;
    }
    return errorLine(io, error, verbose);
  }
  return status;
}
