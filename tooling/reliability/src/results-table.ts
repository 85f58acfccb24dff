import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ScenarioResult } from "./tally.js";

/** Reads every saved tally in `dir` and merges those of the same scenario, in first-seen order. */
export async function readResults(dir: string): Promise<ScenarioResult[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".json"));
  const parts = await Promise.all(
    names.sort().map(async (name) => JSON.parse(await readFile(join(dir, name), "utf8"))),
  );
  return mergeResults(parts as ScenarioResult[]);
}

export function mergeResults(parts: readonly ScenarioResult[]): ScenarioResult[] {
  const merged = new Map<string, ScenarioResult>();
  for (const part of parts) {
    const into = merged.get(part.scenario);
    if (!into) {
      merged.set(part.scenario, {
        ...part,
        codes: { ...part.codes },
        problems: [...part.problems],
      });
      continue;
    }
    into.runs += part.runs;
    into.verified += part.verified;
    into.typed += part.typed;
    into.untyped += part.untyped;
    into.corrupt += part.corrupt;
    into.leaks += part.leaks;
    into.injected = (into.injected ?? 0) + (part.injected ?? 0);
    into.boundMs = Math.max(into.boundMs, part.boundMs);
    into.maxMs = Math.max(into.maxMs, part.maxMs);
    for (const [code, count] of Object.entries(part.codes)) {
      into.codes[code] = (into.codes[code] ?? 0) + count;
    }
    into.problems.push(...part.problems);
  }
  return [...merged.values()].sort((a, b) => a.scenario.localeCompare(b.scenario));
}

const COLUMNS = [
  "scenario",
  "runs",
  "verified",
  "typed failures",
  "untyped failures",
  "corrupt outputs",
  "leaks",
  "slowest / bound",
  "faults injected",
] as const;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The results as a Markdown table (readable in a terminal and pasteable into a report). */
export function formatTable(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => [
    r.scenario,
    String(r.runs),
    String(r.verified),
    String(r.typed),
    String(r.untyped),
    String(r.corrupt),
    String(r.leaks),
    r.boundMs > 0 ? `${seconds(r.maxMs)} / ${seconds(r.boundMs)}` : "-",
    r.injected ? String(r.injected) : "-",
  ]);
  const total = results.reduce(
    (sum, r) => ({
      runs: sum.runs + r.runs,
      verified: sum.verified + r.verified,
      typed: sum.typed + r.typed,
      untyped: sum.untyped + r.untyped,
      corrupt: sum.corrupt + r.corrupt,
      leaks: sum.leaks + r.leaks,
    }),
    { runs: 0, verified: 0, typed: 0, untyped: 0, corrupt: 0, leaks: 0 },
  );
  rows.push([
    "total",
    String(total.runs),
    String(total.verified),
    String(total.typed),
    String(total.untyped),
    String(total.corrupt),
    String(total.leaks),
    "",
    "",
  ]);
  const widths = COLUMNS.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const numeric = (i: number) => i > 0 && i !== 7;
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => (numeric(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (numeric(i) ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(COLUMNS), rule, ...rows.map(line)].join("\n");
}

/** Which error codes each scenario's typed failures had, one line per scenario. */
export function formatCodes(results: readonly ScenarioResult[]): string {
  return results
    .filter((r) => Object.keys(r.codes).length > 0)
    .map((r) => {
      const codes = Object.entries(r.codes)
        .sort((a, b) => b[1] - a[1])
        .map(([code, count]) => `${code} ${count}`);
      return `- ${r.scenario}: ${codes.join(", ")}`;
    })
    .join("\n");
}

/** Why the suite fails: any untyped failure, corrupt output or leak, or a scenario that never ran. */
export function verdict(results: readonly ScenarioResult[]): string[] {
  const reasons: string[] = [];
  for (const r of results) {
    if (r.runs === 0) reasons.push(`${r.scenario}: no runs recorded`);
    if (r.untyped > 0) reasons.push(`${r.scenario}: ${r.untyped} untyped failure(s)`);
    if (r.corrupt > 0) reasons.push(`${r.scenario}: ${r.corrupt} corrupt output(s)`);
    if (r.leaks > 0) reasons.push(`${r.scenario}: ${r.leaks} leak(s)`);
    for (const problem of r.problems.slice(0, 5)) reasons.push(`  ${problem}`);
  }
  return reasons;
}
