import { describe, expect, it } from "vitest";
import { renderRatioChart } from "./chart.js";
import { formatDuration, formatRange, markdownTable } from "./format.js";
import type { MachineDescription } from "./machine.js";
import {
  allTargets,
  type BenchReport,
  chartBars,
  renderMarkdown,
  scenarioTable,
} from "./report.js";
import { type Sample, type ScenarioResult, toolResult } from "./results.js";
import { targetsFor } from "./targets.js";
import { updateBenchmarksDocument } from "./update-docs.js";

const runs = (...walls: number[]): Sample[] =>
  walls.map((wallMs) => ({ wallMs, maxRssKiB: 50 * 1024, cpuMs: wallMs / 2 }));

const pullA: ScenarioResult = {
  scenario: "pull",
  dataset: { id: "A", title: "1 layer × 256 MiB", bytes: 256e6 },
  tools: [
    toolResult("hoist", runs(500, 520, 480)),
    toolResult("skopeo", runs(1000, 1100, 900)),
    toolResult("ceiling", runs(400, 410, 390)),
  ],
};

describe("formatting", () => {
  it("shows milliseconds under a second and seconds above", () => {
    expect(formatDuration(85.4)).toBe("85 ms");
    expect(formatDuration(1234)).toBe("1.23 s");
    expect(formatRange(80, 95, 85)).toBe("80–95 ms");
    expect(formatRange(980, 1100, 1000)).toBe("0.98–1.10 s");
  });

  it("pads Markdown tables so they read in a terminal", () => {
    expect(
      markdownTable(
        ["name", "ms"],
        [
          ["a", "5"],
          ["long name", "120"],
        ],
        ["left", "right"],
      ),
    ).toBe(
      [
        "| name      |  ms |",
        "|-----------|----:|",
        "| a         |   5 |",
        "| long name | 120 |",
      ].join("\n"),
    );
  });

  it("escapes pipes inside cells", () => {
    expect(markdownTable(["a"], [["x|y"]])).toContain("x\\|y");
  });
});

describe("targets", () => {
  it("judges the ratio of medians and the peak RSS", () => {
    const checks = targetsFor(pullA);
    expect(checks.map((c) => [c.kind, c.shown, c.met])).toEqual([
      ["ratio", "0.50", true],
      ["rss", "50.0 MiB", true],
    ]);
  });

  it("marks a ratio over its bound as missed", () => {
    const slow: ScenarioResult = {
      ...pullA,
      tools: [toolResult("hoist", runs(700)), toolResult("skopeo", runs(1000))],
    };
    expect(targetsFor(slow)[0]).toMatchObject({
      target: "hoist/skopeo ≤ 0.55",
      shown: "0.70",
      met: false,
    });
  });

  it("says 'not measured' when hoist did not run", () => {
    const skipped: ScenarioResult = {
      ...pullA,
      tools: [toolResult("hoist", [], { skipped: "no CLI" }), toolResult("skopeo", runs(1000))],
    };
    expect(
      targetsFor(skipped).every((c) => c.met === undefined && c.shown === "not measured"),
    ).toBe(true);
  });

  it("wants 0 bytes moved by a mount and a fast start-up", () => {
    const mount: ScenarioResult = {
      scenario: "mount",
      dataset: { id: "C", title: "", bytes: 1 },
      tools: [
        toolResult("hoist", [{ wallMs: 100, maxRssKiB: 1000, cpuMs: 10, layerBytesMoved: 512 }]),
      ],
    };
    expect(targetsFor(mount).find((c) => c.kind === "moved")).toMatchObject({
      met: false,
      shown: "512 B",
    });
    const version: ScenarioResult = {
      scenario: "version",
      tools: [toolResult("hoist", runs(80, 85, 120))],
    };
    expect(targetsFor(version).find((c) => c.kind === "start-up")).toMatchObject({
      met: true,
      shown: "85 ms",
    });
  });
});

describe("scenarioTable", () => {
  it("puts the ratios and the verdict on hoist's row", () => {
    const table = scenarioTable("pull", [pullA]);
    const hoistRow = table.split("\n").find((row) => row.startsWith("| A    | hoist"));
    expect(hoistRow).toMatch(
      /500 ms .* 480–520 ms .* 512 .* 50\.0 MiB .* 250 ms .* 0\.50 .* 1\.25 .* ≤ 0\.55; peak RSS ≤ 100 MiB .* met/,
    );
  });

  it("gives the minimal Node client's row its own ratios", () => {
    const withNode: ScenarioResult = {
      ...pullA,
      tools: [...pullA.tools, toolResult("node", runs(450, 460, 440))],
    };
    const nodeRow = scenarioTable("pull", [withNode])
      .split("\n")
      .find((row) => row.startsWith("| A    | node"));
    // 450 / 1000 of skopeo, 450 / 400 of the ceiling; no target or verdict of its own.
    expect(nodeRow).toMatch(/450 ms .* 0\.45 .* 1\.13 \|\s+\|\s+\|$/);
  });

  it("gives the undici client's row its ratios, after the node row", () => {
    const withBoth: ScenarioResult = {
      ...pullA,
      tools: [
        toolResult("undici", runs(600, 610, 590)),
        ...pullA.tools,
        toolResult("node", runs(450, 460, 440)),
      ],
    };
    const rows = scenarioTable("pull", [withBoth]).split("\n");
    const nodeAt = rows.findIndex((row) => row.startsWith("| A    | node"));
    const undiciAt = rows.findIndex((row) => row.startsWith("| A    | undici"));
    expect(undiciAt).toBe(nodeAt + 1);
    // 600 / 1000 of skopeo, 600 / 400 of the ceiling.
    expect(rows[undiciAt]).toMatch(/600 ms .* 0\.60 .* 1\.50 \|\s+\|\s+\|$/);
  });

  it("gives the reuse client's row its ratios, after the undici row", () => {
    const withAll: ScenarioResult = {
      ...pullA,
      tools: [
        toolResult("reuse", runs(300, 310, 290)),
        toolResult("undici", runs(600, 610, 590)),
        ...pullA.tools,
        toolResult("node", runs(450, 460, 440)),
      ],
    };
    const rows = scenarioTable("pull", [withAll]).split("\n");
    const undiciAt = rows.findIndex((row) => row.startsWith("| A    | undici"));
    const reuseAt = rows.findIndex((row) => row.startsWith("| A    | reuse"));
    expect(reuseAt).toBe(undiciAt + 1);
    // 300 / 1000 of skopeo, 300 / 400 of the ceiling.
    expect(rows[reuseAt]).toMatch(/300 ms .* 0\.30 .* 0\.75 \|\s+\|\s+\|$/);
  });

  it("lists why a tool was skipped or failed below the table", () => {
    const result: ScenarioResult = {
      ...pullA,
      tools: [
        toolResult("hoist", [], { skipped: "no CLI yet" }),
        toolResult("skopeo", [], { error: "exited with 1:\nboom" }),
      ],
    };
    const table = scenarioTable("pull", [result]);
    expect(table).toContain("- hoist skipped: no CLI yet");
    expect(table).toContain("- skopeo failed on A: exited with 1: boom");
  });
});

describe("renderMarkdown", () => {
  const machine: MachineDescription = {
    cpu: "Test CPU",
    cores: 2,
    memoryGiB: 4,
    os: "Linux 6",
    node: "v20.0.0",
  };
  const report: BenchReport = {
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:10:00.000Z",
    machine,
    load: { start: [0.1, 0.2, 0.3], end: [1, 1, 1] },
    versions: { skopeo: "1.9.3" },
    warmup: 1,
    runs: 5,
    results: [pullA],
    targets: allTargets([pullA]),
  };

  it("describes the machine and holds the target summary and each scenario", () => {
    const text = renderMarkdown(report, { chartPath: "chart.svg" });
    expect(text).toContain("Test CPU, 2 cores, 4 GiB");
    expect(text).toContain("![hoist/skopeo ratios](chart.svg)");
    expect(text).toContain("### Targets");
    expect(text).toContain("### pull: pull to a fresh OCI layout");
  });
});

describe("renderRatioChart", () => {
  it("draws one bar per ratio, coloured by its target", () => {
    const svg = renderRatioChart(
      [
        { label: "pull A", ratio: 0.5, limit: 0.55 },
        { label: "pull B", ratio: 0.9, limit: 0.65 },
        { label: "digest <x>", ratio: 1.2 },
      ],
      "hoist & skopeo",
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("<title>hoist &amp; skopeo: each scenario");
    expect(svg.match(/fill="#2e7d32"/g)).toHaveLength(1);
    expect(svg.match(/fill="#c62828"/g)).toHaveLength(1);
    expect(svg.match(/fill="#78909c"/g)).toHaveLength(1);
    expect(svg).toContain("digest &lt;x&gt;");
    expect(svg).toContain("hoist &amp; skopeo");
  });

  it("gets its bars from results that have both medians", () => {
    const onlySkopeo: ScenarioResult = { scenario: "ls", tools: [toolResult("skopeo", runs(40))] };
    expect(chartBars([pullA, onlySkopeo])).toEqual([{ label: "pull A", ratio: 0.5, limit: 0.55 }]);
  });
});

describe("updateBenchmarksDocument", () => {
  it("replaces only the generated section", () => {
    const before =
      "# Benchmarks\n\nintro\n\n<!-- bench:results:start -->\nold\n<!-- bench:results:end -->\n\n## Notes\nkept\n";
    const after = updateBenchmarksDocument(before, "new table");
    expect(after).toContain("new table");
    expect(after).not.toContain("old");
    expect(after).toContain("intro");
    expect(after).toContain("## Notes\nkept");
  });

  it("starts a new document and refuses one without markers", () => {
    expect(updateBenchmarksDocument(undefined, "table")).toContain("table");
    expect(() => updateBenchmarksDocument("# Benchmarks\n", "table")).toThrow(
      /bench:results:start/,
    );
  });
});
