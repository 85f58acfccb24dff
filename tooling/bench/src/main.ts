// `pnpm bench`: hoist side by side with skopeo and the machine's ceilings. See README.md.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BenchRegistry } from "./bench-registry.js";
import { ceilingCommand } from "./ceiling.js";
import { renderRatioChart } from "./chart.js";
import {
  DATASETS,
  type DatasetId,
  ensureDataset,
  type PreparedDataset,
  TAGS_IMAGE,
} from "./datasets.js";
import { type HashCeiling, measureHashCeiling } from "./hash-ceiling.js";
import { hoistCommand, hoistUnavailable } from "./hoist.js";
import { SCENARIO_IDS, type ScenarioId } from "./invocation.js";
import { describeMachine } from "./machine.js";
import { TIME_BINARY } from "./measure.js";
import { type NameBenchResult, runNameBench } from "./name-bench.js";
import {
  NODE_CLIENT_SCENARIOS,
  nodeClientCommand,
  reuseClientCommand,
  undiciClientCommand,
} from "./node-floor.js";
import { BenchUsageError, parseBenchOptions, USAGE } from "./options.js";
import { allTargets, type BenchReport, chartBars, renderMarkdown } from "./report.js";
import type { ScenarioResult } from "./results.js";
import { type RunnerContext, runScenario, seedTags, type ToolDriver } from "./runner.js";
import { SKOPEO_BINARY, skopeoCommand, skopeoUnavailable } from "./skopeo.js";
import { updateBenchmarksDocument } from "./update-docs.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const DATASET_SCENARIOS: ReadonlySet<ScenarioId> = new Set([
  "push-cold",
  "push-warm",
  "mount",
  "pull",
  "copy",
]);

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function firstLine(command: string, args: string[]): string {
  try {
    return (
      execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
        .split("\n")[0]
        ?.trim() ?? ""
    );
  } catch {
    return "not installed";
  }
}

function versions(hoistCli: string): Record<string, string> {
  const found: Record<string, string> = {
    skopeo: firstLine(SKOPEO_BINARY, ["--version"]).replace(/^skopeo version /, ""),
    "docker-registry": firstLine("/usr/bin/docker-registry", ["--version"]).split(" ").pop() ?? "",
    curl: firstLine("curl", ["--version"]).split(" ")[1] ?? "",
  };
  if (existsSync(hoistCli)) found.hoist = firstLine(process.execPath, [hoistCli, "version"]);
  return found;
}

function requireProgram(path: string, debianPackage: string) {
  if (!existsSync(path))
    throw new BenchUsageError(
      `${path} is missing; install it with "sudo apt-get install -y ${debianPackage}"`,
    );
}

async function main(): Promise<number> {
  const options = parseBenchOptions(process.argv.slice(2), ROOT);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const scenarios = SCENARIO_IDS.filter((id) => options.sections.includes(id));
  const results: ScenarioResult[] = [];
  let hashing: HashCeiling | undefined;
  let name: NameBenchResult | undefined;

  if (scenarios.length > 0) {
    requireProgram(TIME_BINARY, "time");
    requireProgram("/usr/bin/docker-registry", "docker-registry");
    const datasetsDir = join(options.workDir, "datasets");
    const datasets = new Map<DatasetId, PreparedDataset & { id: DatasetId }>();
    if (scenarios.some((s) => DATASET_SCENARIOS.has(s)))
      for (const id of options.datasets)
        datasets.set(id, {
          ...(await ensureDataset(DATASETS[id], {
            cacheDir: datasetsDir,
            log,
            signal: controller.signal,
          })),
          id,
        });
    const tagsImage = await ensureDataset(TAGS_IMAGE, { cacheDir: datasetsDir, log });

    const drivers: Record<string, ToolDriver> = {
      skopeo: {
        id: "skopeo",
        unavailable: skopeoUnavailable(),
        command: async (i) => skopeoCommand(i),
      },
      hoist: {
        id: "hoist",
        unavailable: hoistUnavailable(options.hoistCli),
        command: async (i) =>
          hoistCommand(
            i,
            options.hoistCli,
            options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {},
          ),
      },
      ceiling: { id: "ceiling", command: ceilingCommand },
      node: { id: "node", scenarios: NODE_CLIENT_SCENARIOS, command: nodeClientCommand },
      undici: { id: "undici", scenarios: NODE_CLIENT_SCENARIOS, command: undiciClientCommand },
      reuse: { id: "reuse", scenarios: NODE_CLIENT_SCENARIOS, command: reuseClientCommand },
    };
    const source = new BenchRegistry("source", join(options.workDir, "registries", "source"));
    const target = new BenchRegistry("target", join(options.workDir, "registries", "target"));
    const scratchDir = join(options.workDir, "scratch");
    await rm(scratchDir, { recursive: true, force: true });
    const context: RunnerContext = {
      source,
      target,
      tools: options.tools.map((id) => drivers[id] as ToolDriver),
      warmup: options.warmup,
      runs: options.runs,
      scratchDir,
      tagsImage,
      log,
      signal: controller.signal,
    };
    for (const tool of context.tools)
      if (tool.unavailable) log(`${tool.id} skipped: ${tool.unavailable}`);
    try {
      await Promise.all([source.restartEmpty(), target.restartEmpty()]);
      if (scenarios.includes("digest") || scenarios.includes("ls")) {
        log("tagging the small image 5,000 times");
        await seedTags(context);
      }
      for (const scenario of scenarios) {
        if (!DATASET_SCENARIOS.has(scenario)) results.push(await runScenario(context, scenario));
        else
          for (const dataset of datasets.values())
            results.push(await runScenario(context, scenario, dataset));
      }
    } finally {
      await Promise.all([source.stop(), target.stop()]);
      await rm(scratchDir, { recursive: true, force: true });
    }
  }
  if (options.sections.includes("hash")) {
    log("measuring sha256 throughput");
    await mkdir(options.workDir, { recursive: true });
    hashing = await measureHashCeiling({
      inputPath: join(options.workDir, "sha256-input.bin"),
      warmup: options.warmup,
      runs: options.runs,
    });
  }
  if (options.sections.includes("name")) {
    log("measuring @hoist/name");
    name = runNameBench();
  }

  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: describeMachine(),
    load: { start: loadAtStart, end: loadavg() },
    versions: versions(options.hoistCli),
    ...(options.cpuProfileDir ? { profiled: true } : {}),
    warmup: options.warmup,
    runs: options.runs,
    results,
    targets: allTargets(results),
    ...(hashing ? { hashing } : {}),
    ...(name ? { name } : {}),
  };
  const chart = renderRatioChart(chartBars(results), "hoist vs skopeo");
  const stamp = report.startedAt.replace(/[:.]/g, "-");
  await mkdir(options.resultsDir, { recursive: true });
  const files: Array<[string, string]> = [
    [`${stamp}.json`, `${JSON.stringify(report, null, 2)}\n`],
    [`${stamp}.md`, renderMarkdown(report, { chartPath: `${stamp}.svg` })],
    [`${stamp}.svg`, chart],
    ["latest.json", `${JSON.stringify(report, null, 2)}\n`],
    ["latest.md", renderMarkdown(report, { chartPath: "latest.svg" })],
    ["latest.svg", chart],
  ];
  for (const [file, content] of files) await writeFile(join(options.resultsDir, file), content);
  process.stdout.write(`${renderMarkdown(report)}\n`);
  log(`results in ${relative(process.cwd(), options.resultsDir) || "."}/${stamp}.{json,md,svg}`);

  if (options.updateDocs) {
    const chartPath = join(ROOT, "docs", "benchmarks.svg");
    await mkdir(dirname(chartPath), { recursive: true });
    await writeFile(chartPath, chart);
    const documentPath = join(ROOT, "BENCHMARKS.md");
    const current = existsSync(documentPath) ? await readFile(documentPath, "utf8") : undefined;
    await writeFile(
      documentPath,
      updateBenchmarksDocument(
        current,
        renderMarkdown(report, { chartPath: "docs/benchmarks.svg" }),
      ),
    );
    log("updated BENCHMARKS.md and docs/benchmarks.svg");
  }
  const failures = results.flatMap((r) => r.tools.filter((t) => t.error !== undefined));
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof BenchUsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(
      `[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
