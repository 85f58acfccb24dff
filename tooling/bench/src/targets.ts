import type { DatasetId } from "./datasets.js";
import type { ScenarioId } from "./invocation.js";
import { findTool, medianWall, type ScenarioResult } from "./results.js";
import { ratio } from "./statistics.js";

/** hoist/skopeo ratio of medians each scenario must stay at or under (issue 10). */
export const RATIO_TARGETS: Partial<Record<ScenarioId, Partial<Record<DatasetId, number>>>> = {
  pull: { A: 0.55, B: 0.65, C: 0.85, D: 0.65 },
  "push-cold": { A: 1.0, B: 0.6, C: 0.6, D: 0.8 },
  "push-warm": { C: 0.5 },
  copy: { A: 0.9, B: 0.7, C: 0.7, D: 0.7 },
};

export const RSS_LIMIT_KIB = 100 * 1024;
export const VERSION_LIMIT_MS = 90;

export type TargetKind = "ratio" | "start-up" | "moved" | "rss";

export interface TargetCheck {
  scenario: ScenarioId;
  dataset?: DatasetId;
  kind: TargetKind;
  /** The bound: a ratio, milliseconds, bytes or KiB, by kind. */
  limit: number;
  /** "hoist/skopeo ≤ 0.55" */
  target: string;
  measured?: number;
  /** The measurement as the table shows it ("0.61", "83 ms", "0 B"). */
  shown: string;
  /** undefined when hoist did not run, so there is nothing to judge. */
  met?: boolean;
}

function check(
  base: Omit<TargetCheck, "measured" | "shown" | "met">,
  measured: number | undefined,
  shown: (value: number) => string,
  passes: (value: number) => boolean,
): TargetCheck {
  if (measured === undefined) return { ...base, shown: "not measured" };
  return { ...base, measured, shown: shown(measured), met: passes(measured) };
}

/** Every target that applies to a scenario result, judged on hoist's figures. */
export function targetsFor(result: ScenarioResult): TargetCheck[] {
  const dataset = result.dataset?.id;
  const base = { scenario: result.scenario, ...(dataset ? { dataset } : {}) };
  const hoist = findTool(result, "hoist");
  const ran = hoist !== undefined && hoist.error === undefined && hoist.samples.length > 0;
  const checks: TargetCheck[] = [];

  const limit = dataset ? RATIO_TARGETS[result.scenario]?.[dataset] : undefined;
  if (limit !== undefined)
    checks.push(
      check(
        { ...base, kind: "ratio", limit, target: `hoist/skopeo ≤ ${limit.toFixed(2)}` },
        ratio(medianWall(result, "hoist"), medianWall(result, "skopeo")),
        (value) => value.toFixed(2),
        (value) => value <= limit,
      ),
    );
  if (result.scenario === "version")
    checks.push(
      check(
        {
          ...base,
          kind: "start-up",
          limit: VERSION_LIMIT_MS,
          target: `median ≤ ${VERSION_LIMIT_MS} ms`,
        },
        ran ? hoist.wall?.median : undefined,
        (value) => `${Math.round(value)} ms`,
        (value) => value <= VERSION_LIMIT_MS,
      ),
    );
  if (result.scenario === "mount")
    checks.push(
      check(
        { ...base, kind: "moved", limit: 0, target: "0 layer bytes moved" },
        ran ? hoist.layerBytesMoved : undefined,
        (value) => `${value} B`,
        (value) => value === 0,
      ),
    );
  checks.push(
    check(
      {
        ...base,
        kind: "rss",
        limit: RSS_LIMIT_KIB,
        target: `peak RSS ≤ ${RSS_LIMIT_KIB / 1024} MiB`,
      },
      ran ? hoist.peakRssKiB : undefined,
      (value) => `${(value / 1024).toFixed(1)} MiB`,
      (value) => value <= RSS_LIMIT_KIB,
    ),
  );
  return checks;
}
