import type { DatasetId } from "./datasets.js";
import type { ScenarioId, ToolId } from "./invocation.js";
import { median, type Summary, summarize } from "./statistics.js";

/** One counted run of one tool. */
export interface Sample {
  wallMs: number;
  maxRssKiB: number;
  cpuMs: number;
  /**
   * Not in the tables; kept in the JSON to tell a slow round's cause: system CPU, minor page
   * faults and context switches (absent from results written before they were recorded).
   */
  systemMs?: number;
  minorFaults?: number;
  voluntarySwitches?: number;
  involuntarySwitches?: number;
  /** Layer bytes the registries logged as moved during the run (transfer scenarios only). */
  layerBytesMoved?: number;
}

export interface ToolResult {
  tool: ToolId;
  samples: Sample[];
  wall?: Summary;
  /** The highest peak RSS of any counted run. */
  peakRssKiB?: number;
  /** Median CPU time (user + system). */
  cpuMs?: number;
  /** The most layer bytes any counted run moved. */
  layerBytesMoved?: number;
  /** The run failed; the message says how. */
  error?: string;
  /** The tool did not run, and why. */
  skipped?: string;
}

export interface ScenarioResult {
  scenario: ScenarioId;
  dataset?: { id: DatasetId; title: string; bytes: number };
  tools: ToolResult[];
}

export function toolResult(
  tool: ToolId,
  samples: Sample[],
  outcome: { error?: string; skipped?: string } = {},
): ToolResult {
  const result: ToolResult = { tool, samples, ...outcome };
  if (samples.length === 0) return result;
  result.wall = summarize(samples.map((s) => s.wallMs));
  result.peakRssKiB = Math.max(...samples.map((s) => s.maxRssKiB));
  result.cpuMs = median(samples.map((s) => s.cpuMs));
  const moved = samples.flatMap((s) =>
    s.layerBytesMoved === undefined ? [] : [s.layerBytesMoved],
  );
  if (moved.length > 0) result.layerBytesMoved = Math.max(...moved);
  return result;
}

export function findTool(result: ScenarioResult, tool: ToolId): ToolResult | undefined {
  return result.tools.find((candidate) => candidate.tool === tool);
}

/** The median wall time of a tool that completed every run, else undefined. */
export function medianWall(result: ScenarioResult, tool: ToolId): number | undefined {
  const found = findTool(result, tool);
  return found?.error === undefined ? found?.wall?.median : undefined;
}
