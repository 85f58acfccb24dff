import type { ChartBar } from "./chart.js";
import {
  type Align,
  formatBytes,
  formatDuration,
  formatMiB,
  formatRange,
  formatRate,
  markdownTable,
} from "./format.js";
import type { HashCeiling } from "./hash-ceiling.js";
import type { ScenarioId } from "./invocation.js";
import { formatMachine, type MachineDescription } from "./machine.js";
import { STRIPPED_ENV } from "./measure.js";
import { formatNameBench, type NameBenchResult } from "./name-bench.js";
import { findTool, medianWall, type ScenarioResult, type ToolResult } from "./results.js";
import { ratio } from "./statistics.js";
import { type TargetCheck, targetsFor } from "./targets.js";

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: MachineDescription;
  /** The 1, 5 and 15 minute load averages when the run started and ended: other work on the
   * machine shows here, and in the spread of the runs. */
  load: { start: number[]; end: number[] };
  /** Program versions: skopeo, docker-registry, curl, hoist. */
  versions: Record<string, string>;
  warmup: number;
  runs: number;
  /** hoist ran under the CPU profiler: its figures are slower than it is. */
  profiled?: boolean;
  results: ScenarioResult[];
  targets: TargetCheck[];
  hashing?: HashCeiling;
  name?: NameBenchResult;
}

export const SCENARIO_TITLES: Record<ScenarioId, string> = {
  "push-cold": "push, registry storage wiped",
  "push-warm": "push to a new tag, every blob already present",
  mount: "copy into a new repository of the same registry (cross-repository mount)",
  pull: "pull to a fresh OCI layout",
  copy: "copy registry to registry, every byte streamed",
  digest: "digest of a tag",
  ls: "ls of a repository with 5,000 tags",
  version: "start-up (`hoist version`, `skopeo --version`; ceiling: `node -e 0`)",
};

/** Scenarios whose bytes make a throughput figure meaningful. */
const THROUGHPUT: ReadonlySet<ScenarioId> = new Set(["push-cold", "pull", "copy"]);
/** Scenarios where the layer bytes moved are the point. */
const MOVED: ReadonlySet<ScenarioId> = new Set(["push-warm", "mount"]);

export function allTargets(results: readonly ScenarioResult[]): TargetCheck[] {
  return results.flatMap(targetsFor);
}

const SHORT_NAMES: Record<TargetCheck["kind"], string> = {
  ratio: "ratio",
  "start-up": "median",
  moved: "moved",
  rss: "RSS",
};

function status(checks: readonly TargetCheck[]): string {
  if (checks.length === 0) return "";
  if (checks.some((c) => c.met === false))
    return `missed (${checks
      .filter((c) => c.met === false)
      .map((c) => `${SHORT_NAMES[c.kind]} ${c.shown}`)
      .join(", ")})`;
  if (checks.some((c) => c.met === undefined)) return "not measured";
  return "met";
}

function toolRow(
  result: ScenarioResult,
  tool: ToolResult,
  columns: { throughput: boolean; moved: boolean },
): string[] {
  const isHoist = tool.tool === "hoist";
  const checks = isHoist ? targetsFor(result) : [];
  const targets = checks.map((c) => c.target.replace("hoist/skopeo ", "")).join("; ");
  const row = [result.dataset?.id ?? "—", tool.tool];
  if (tool.skipped || tool.error || !tool.wall) {
    const blank = Array.from(
      { length: 5 + Number(columns.throughput) + Number(columns.moved) },
      () => "",
    );
    return [
      ...row,
      tool.skipped ? "skipped" : "failed",
      ...blank,
      targets,
      isHoist ? status(checks) : "",
    ];
  }
  const wall = tool.wall;
  row.push(formatDuration(wall.median), formatRange(wall.min, wall.max, wall.median));
  if (columns.throughput)
    row.push(result.dataset ? formatRate(result.dataset.bytes, wall.median) : "");
  if (columns.moved)
    row.push(tool.layerBytesMoved === undefined ? "" : formatBytes(tool.layerBytesMoved));
  row.push(formatMiB(tool.peakRssKiB ?? 0), formatDuration(tool.cpuMs ?? 0));
  // The minimal clients' rows carry their ratios too: how far a Node client can get.
  const compared = isHoist || ["node", "undici", "reuse"].includes(tool.tool);
  const vsSkopeo = compared
    ? ratio(medianWall(result, tool.tool), medianWall(result, "skopeo"))
    : undefined;
  const vsCeiling = compared
    ? ratio(medianWall(result, tool.tool), medianWall(result, "ceiling"))
    : undefined;
  row.push(
    vsSkopeo === undefined ? "" : vsSkopeo.toFixed(2),
    vsCeiling === undefined ? "" : vsCeiling.toFixed(2),
  );
  row.push(targets, isHoist ? status(checks) : "");
  return row;
}

/** The table of one scenario: a row per dataset and tool. */
export function scenarioTable(scenario: ScenarioId, results: readonly ScenarioResult[]): string {
  const columns = { throughput: THROUGHPUT.has(scenario), moved: MOVED.has(scenario) };
  const header = [
    "data",
    "tool",
    "wall median",
    "min–max",
    ...(columns.throughput ? ["MB/s"] : []),
    ...(columns.moved ? ["layer bytes moved"] : []),
    "peak RSS",
    "CPU",
    "÷ skopeo",
    "÷ ceiling",
    "target",
    "status",
  ];
  const align: Align[] = header.map((name) =>
    ["data", "tool", "target", "status"].includes(name) ? "left" : "right",
  );
  const rows: string[][] = [];
  const notes = new Set<string>();
  for (const result of results.filter((r) => r.scenario === scenario))
    for (const name of ["hoist", "skopeo", "ceiling", "node", "undici", "reuse"] as const) {
      const tool = findTool(result, name);
      if (!tool) continue;
      rows.push(toolRow(result, tool, columns));
      if (tool.skipped) notes.add(`${name} skipped: ${tool.skipped}`);
      if (tool.error)
        notes.add(`${name} failed on ${result.dataset?.id ?? scenario}: ${tool.error}`);
    }
  const table = markdownTable(header, rows, align);
  if (notes.size === 0) return table;
  return `${table}\n\n${[...notes].map((note) => `- ${note.replace(/\n/g, " ")}`).join("\n")}`;
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  return markdownTable(
    ["scenario", "data", "target", "measured", "status"],
    checks.map((c) => [
      c.scenario,
      c.dataset ?? "—",
      c.target,
      c.shown,
      c.met === undefined ? "not measured" : c.met ? "met" : "**missed**",
    ]),
    ["left", "left", "left", "right", "left"],
  );
}

/** The bars of the ratio chart: every scenario result with both medians. */
export function chartBars(results: readonly ScenarioResult[]): ChartBar[] {
  return results.flatMap((result) => {
    const value = ratio(medianWall(result, "hoist"), medianWall(result, "skopeo"));
    if (value === undefined) return [];
    const bound = targetsFor(result).find((c) => c.kind === "ratio")?.limit;
    return [
      {
        label: `${result.scenario}${result.dataset ? ` ${result.dataset.id}` : ""}`,
        ratio: value,
        ...(bound === undefined ? {} : { limit: bound }),
      },
    ];
  });
}

/** The whole report as Markdown (also what the terminal shows). */
export function renderMarkdown(report: BenchReport, options: { chartPath?: string } = {}): string {
  const out: string[] = [];
  const versions = Object.entries(report.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(", ");
  out.push(
    `Run of ${report.startedAt} on ${formatMachine(report.machine)}; load average ` +
      `${report.load.start.map((l) => l.toFixed(2)).join(" ")} at the start, ` +
      `${report.load.end.map((l) => l.toFixed(2)).join(" ")} at the end.`,
    "",
    `Programs: ${versions}. Each figure is the median of ${report.runs} counted runs after ` +
      `${report.warmup} warm-up run${report.warmup === 1 ? "" : "s"} per tool; the tools take turns ` +
      "(each round starts with the next one). Peak RSS is the highest of the counted runs, CPU " +
      "(user + system of the client process) the median. The ceiling is curl doing the same " +
      "requests with no client logic; node, in pull, push-cold and copy, is a minimal Node.js " +
      "client doing only what a correct client must (a pull hashes, writes and flushes every " +
      "blob; a copy checks each blob at the destination and verifies what it streams), " +
      "with no hoist code, on node:http; undici is the same client on undici, the HTTP client " +
      "hoist is built on, and reuse the same work with no HTTP library, on raw sockets that " +
      "each read into one reused buffer (see tooling/bench/README.md). The ÷ columns divide a " +
      "row's median by skopeo's and the ceiling's. Every command runs without " +
      `${STRIPPED_ENV.join(" and ")} in its environment.`,
    "",
  );
  if (report.profiled)
    out.push(
      "**hoist ran under `node --cpu-prof` in this run: its figures include the profiler.**",
      "",
    );
  if (options.chartPath) out.push(`![hoist/skopeo ratios](${options.chartPath})`, "");
  if (report.targets.length > 0) out.push("### Targets", "", targetsTable(report.targets), "");
  const scenarios = [...new Set(report.results.map((r) => r.scenario))];
  for (const scenario of scenarios)
    out.push(
      `### ${scenario}: ${SCENARIO_TITLES[scenario]}`,
      "",
      scenarioTable(scenario, report.results),
      "",
    );
  if (report.hashing) {
    const { nodeCrypto, sha256sum, bytes } = report.hashing;
    out.push(
      "### Ceiling: sha256 throughput",
      "",
      markdownTable(
        ["hasher", "median MB/s", "min–max MB/s"],
        [
          [
            "Node crypto, 1 MiB updates",
            `${Math.round(nodeCrypto.median)}`,
            `${Math.round(nodeCrypto.min)}–${Math.round(nodeCrypto.max)}`,
          ],
          [
            `sha256sum, ${formatBytes(bytes)} cached file`,
            `${Math.round(sha256sum.median)}`,
            `${Math.round(sha256sum.min)}–${Math.round(sha256sum.max)}`,
          ],
        ],
        ["left", "right", "right"],
      ),
      "",
    );
  }
  if (report.name) out.push("### @hoist/name", "", "```", formatNameBench(report.name), "```", "");
  return out.join("\n");
}
