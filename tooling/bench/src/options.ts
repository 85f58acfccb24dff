import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DATASET_IDS, type DatasetId } from "./datasets.js";
import { SCENARIO_IDS, type ScenarioId, TOOL_IDS, type ToolId } from "./invocation.js";

/** Sections besides the registry scenarios. */
export const EXTRA_SECTIONS = ["hash", "name"] as const;
export type Section = ScenarioId | (typeof EXTRA_SECTIONS)[number];
const SECTIONS: readonly Section[] = [...SCENARIO_IDS, ...EXTRA_SECTIONS];

export interface BenchOptions {
  sections: Section[];
  datasets: DatasetId[];
  tools: ToolId[];
  runs: number;
  warmup: number;
  workDir: string;
  resultsDir: string;
  hoistCli: string;
  /** Run hoist under `node --cpu-prof`, writing profiles here (its figures then include the profiler). */
  cpuProfileDir?: string;
  /** Rewrite the results part of BENCHMARKS.md and its chart. */
  updateDocs: boolean;
  help: boolean;
}

export class BenchUsageError extends Error {
  readonly code = "HOIST_BENCH_USAGE";
  constructor(message: string) {
    super(message);
    this.name = "BenchUsageError";
  }
}

export const USAGE = `Usage: pnpm bench [options]

Runs hoist and skopeo side by side against local docker-registry instances.

  --scenarios LIST  comma-separated, default all: ${SECTIONS.join(",")}
  --datasets LIST   comma-separated, default all: ${DATASET_IDS.join(",")}
                    A 1×256 MiB, B 8×32 MiB, C 64×1 MiB, D index 2×4×16 MiB,
                    E system directories (gzip), F 1×1 GiB
  --tools LIST      comma-separated, default all: ${TOOL_IDS.join(",")}
  --runs N          counted runs per tool, default 5
  --warmup N        warm-up runs per tool, default 1
  --work-dir DIR    datasets, registry storage and scratch space, default .bench-out
  --results-dir DIR where the JSON, Markdown and SVG go, default WORK-DIR/results
  --hoist PATH      the hoist CLI bundle, default apps/hoist/dist/hoist.cjs
  --cpu-prof DIR    run hoist under node --cpu-prof, profiles in DIR/<scenario>-<data>
                    (the profiler slows hoist: use it to find causes, not for figures)
  --update-docs     rewrite the results in BENCHMARKS.md and docs/benchmarks.svg
  --help            this text

A quick look: pnpm bench --scenarios pull,push-cold --datasets C,D --runs 2 --warmup 0`;

function list<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T[] {
  if (value === undefined) return [...allowed];
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  // Dataset letters are case-insensitive; everything else is lower case.
  const normalised = items.map(
    (item) => allowed.find((a) => a.toLowerCase() === item.toLowerCase()) ?? item,
  );
  const unknown = normalised.filter((item) => !allowed.includes(item as T));
  if (unknown.length > 0 || normalised.length === 0)
    throw new BenchUsageError(
      `--${flag} ${JSON.stringify(value)}: ${unknown.length > 0 ? `unknown ${unknown.map((u) => JSON.stringify(u)).join(", ")}` : "empty"}; choose from ${allowed.join(", ")}`,
    );
  return allowed.filter((item) => normalised.includes(item));
}

function count(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min)
    throw new BenchUsageError(
      `--${flag} ${JSON.stringify(value)}: expected a whole number of at least ${min}`,
    );
  return parsed;
}

/** Reads the command line; `root` is the repository the defaults are relative to. */
export function parseBenchOptions(argv: readonly string[], root: string): BenchOptions {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        scenarios: { type: "string" },
        datasets: { type: "string" },
        tools: { type: "string" },
        runs: { type: "string" },
        warmup: { type: "string" },
        "work-dir": { type: "string" },
        "results-dir": { type: "string" },
        hoist: { type: "string" },
        "cpu-prof": { type: "string" },
        "update-docs": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const text = (name: string) => values[name] as string | undefined;
  const workDir = resolve(root, text("work-dir") ?? ".bench-out");
  return {
    sections: list("scenarios", text("scenarios"), SECTIONS),
    datasets: list("datasets", text("datasets"), DATASET_IDS),
    tools: list("tools", text("tools"), TOOL_IDS),
    runs: count("runs", text("runs"), 5, 1),
    warmup: count("warmup", text("warmup"), 1, 0),
    workDir,
    resultsDir: resolve(root, text("results-dir") ?? resolve(workDir, "results")),
    hoistCli: resolve(root, text("hoist") ?? "apps/hoist/dist/hoist.cjs"),
    ...(text("cpu-prof") === undefined
      ? {}
      : { cpuProfileDir: resolve(root, text("cpu-prof") as string) }),
    updateDocs: values["update-docs"] === true,
    help: values.help === true,
  };
}
