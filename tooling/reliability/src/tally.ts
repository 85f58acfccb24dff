import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Classification, classifyError, type ErrorFamily } from "./classify.js";

/** One scenario's counts, as the results table shows them. */
export interface ScenarioResult {
  readonly scenario: string;
  runs: number;
  /** Runs that finished and whose output an independent check confirmed. */
  verified: number;
  /** Runs that failed with a hoist error (stable code) within the time bound. */
  typed: number;
  /** Runs that failed any other way: a foreign exception, a crash, a hang past the bound. */
  untyped: number;
  /** Outputs found half-written, wrong, or written outside their target. */
  corrupt: number;
  /** Secrets seen where they must not be; sockets, file handles or memory not given back. */
  leaks: number;
  /** The stated time bound of one run, in milliseconds (0: not timed). */
  boundMs: number;
  /** The slowest run, in milliseconds. */
  maxMs: number;
  /** Faults injected into the runs (chaos scenarios), 0 where nothing is injected. */
  injected: number;
  /** Typed failures by code. */
  codes: Record<string, number>;
  /** What went wrong, for every untyped failure, corrupt output and leak (capped). */
  problems: string[];
}

const MAX_PROBLEMS = 50;

/** The end of one run: finished, or failed (typed or not), and how long it took. */
export type RunReport =
  | { readonly outcome: "finished"; readonly durationMs: number }
  | {
      readonly outcome: "failed";
      readonly durationMs: number;
      readonly error: unknown;
      readonly classification: Classification;
    }
  | { readonly outcome: "hung"; readonly durationMs: number };

export interface TimedRunOptions {
  /** The run must settle within this many milliseconds; past it, it is aborted and counted as hung. */
  boundMs: number;
  /** Error families that count as typed here (default: all of hoist's). */
  families?: readonly ErrorFamily[];
  /** Extra time a run gets to react to the abort before it is abandoned. Default 5 s. */
  abandonAfterMs?: number;
}

/**
 * Runs `body` with a watchdog. The body gets a signal that fires at the bound; a body that does
 * not settle by then counts as hung (an untyped failure: the promise is "bounded time").
 */
export async function timedRun(
  options: TimedRunOptions,
  body: (signal: AbortSignal) => Promise<void>,
): Promise<RunReport> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<"bound">((resolve) => {
    timer = setTimeout(() => resolve("bound"), options.boundMs);
  });
  const run = body(controller.signal).then(
    () => ({ done: true as const }),
    (error: unknown) => ({ done: false as const, error }),
  );
  try {
    const first = await Promise.race([run, bound]);
    const durationMs = Math.round(performance.now() - started);
    if (first !== "bound") {
      if (first.done) return { outcome: "finished", durationMs };
      return {
        outcome: "failed",
        durationMs,
        error: first.error,
        classification: classifyError(first.error, options.families),
      };
    }
    controller.abort(new Error(`the run exceeded its bound of ${options.boundMs} ms`));
    // Let it wind down so it does not disturb the next run, but never wait forever.
    await Promise.race([run, sleep(options.abandonAfterMs ?? 5000)]);
    return { outcome: "hung", durationMs };
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Counts one scenario's runs and writes them where the suite's table is made. */
export class Tally {
  readonly result: ScenarioResult;

  constructor(scenario: string, options: { boundMs?: number } = {}) {
    this.result = {
      scenario,
      runs: 0,
      verified: 0,
      typed: 0,
      untyped: 0,
      corrupt: 0,
      leaks: 0,
      boundMs: options.boundMs ?? 0,
      maxMs: 0,
      injected: 0,
      codes: {},
      problems: [],
    };
  }

  /** A run that finished and was verified. */
  verified(durationMs = 0): void {
    this.result.runs++;
    this.result.verified++;
    this.time(durationMs);
  }

  /** A run that failed with a hoist error of this code. */
  typed(code: string, durationMs = 0): void {
    this.result.runs++;
    this.result.typed++;
    this.result.codes[code] = (this.result.codes[code] ?? 0) + 1;
    this.time(durationMs);
  }

  /** A run that failed some other way. */
  untyped(problem: string, durationMs = 0): void {
    this.result.runs++;
    this.result.untyped++;
    this.problem(`untyped: ${problem}`);
    this.time(durationMs);
  }

  /** Counts a failed or hung run by its classification (a finished run is the caller's to verify). */
  failure(report: Exclude<RunReport, { outcome: "finished" }>, context = ""): void {
    const prefix = context ? `${context}: ` : "";
    if (report.outcome === "hung") {
      this.untyped(`${prefix}no answer within ${this.result.boundMs} ms`, report.durationMs);
    } else if (report.classification.typed) {
      this.typed(report.classification.code, report.durationMs);
    } else {
      this.untyped(`${prefix}${report.classification.reason}`, report.durationMs);
    }
  }

  /** An output found wrong, half-written or outside its target (not a run of its own). */
  corrupt(problem: string): void {
    this.result.corrupt++;
    this.problem(`corrupt: ${problem}`);
  }

  /** A secret or a resource that escaped (not a run of its own). */
  leak(problem: string): void {
    this.result.leaks++;
    this.problem(`leak: ${problem}`);
  }

  /** Faults a fault proxy injected into this scenario's runs. */
  injectedFaults(count: number): void {
    this.result.injected += count;
  }

  /** Problems that make the scenario fail: untyped failures, corrupt outputs and leaks. */
  get problems(): readonly string[] {
    return this.result.problems;
  }

  private time(durationMs: number): void {
    this.result.maxMs = Math.max(this.result.maxMs, Math.round(durationMs));
  }

  private problem(text: string): void {
    if (this.result.problems.length < MAX_PROBLEMS) this.result.problems.push(text);
  }

  /** Writes the counts into `dir`, one file per save, for the end-of-suite table. */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const slug = this.result.scenario.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    const file = join(dir, `${slug}-${process.pid}-${randomBytes(4).toString("hex")}.json`);
    await writeFile(file, JSON.stringify(this.result));
  }
}
