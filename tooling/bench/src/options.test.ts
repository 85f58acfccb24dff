import { describe, expect, it } from "vitest";
import { BenchUsageError, parseBenchOptions } from "./options.js";

const ROOT = "/repo";

describe("parseBenchOptions", () => {
  it("runs everything five times after one warm-up by default", () => {
    const options = parseBenchOptions([], ROOT);
    expect(options).toMatchObject({
      datasets: ["A", "B", "C", "D", "E", "F"],
      tools: ["skopeo", "hoist", "ceiling", "node", "undici", "reuse"],
      runs: 5,
      warmup: 1,
      workDir: "/repo/.bench-out",
      resultsDir: "/repo/.bench-out/results",
      hoistCli: "/repo/apps/hoist/dist/hoist.cjs",
      updateDocs: false,
    });
    expect(options.sections).toContain("push-cold");
    expect(options.sections).toContain("name");
  });

  it("selects scenarios, datasets (any case) and counts, keeping the canonical order", () => {
    const options = parseBenchOptions(
      [
        "--scenarios",
        "pull,push-cold",
        "--datasets",
        "d,c",
        "--runs",
        "2",
        "--warmup",
        "0",
        "--tools",
        "hoist",
      ],
      ROOT,
    );
    expect(options).toMatchObject({
      sections: ["push-cold", "pull"],
      datasets: ["C", "D"],
      tools: ["hoist"],
      runs: 2,
      warmup: 0,
    });
  });

  it("resolves directories against the repository", () => {
    const options = parseBenchOptions(["--work-dir", "/tmp/b", "--hoist", "x/hoist.js"], ROOT);
    expect(options.workDir).toBe("/tmp/b");
    expect(options.resultsDir).toBe("/tmp/b/results");
    expect(options.hoistCli).toBe("/repo/x/hoist.js");
  });

  it.each([
    [["--datasets", "A,Z"], /--datasets "A,Z": unknown "Z"; choose from A, B, C, D, E, F/],
    [["--scenarios", ","], /--scenarios ",": empty/],
    [["--runs", "0"], /--runs "0": expected a whole number of at least 1/],
    [["--warmup", "1.5"], /--warmup "1.5"/],
    [["--speed"], /Unknown option '--speed'/],
  ])("rejects %j with a clear message", (argv, message) => {
    expect(() => parseBenchOptions(argv, ROOT)).toThrow(BenchUsageError);
    expect(() => parseBenchOptions(argv, ROOT)).toThrow(message);
  });
});

describe("--cpu-prof", () => {
  it("takes a directory for hoist's profiles", () => {
    expect(parseBenchOptions(["--cpu-prof", "prof"], ROOT).cpuProfileDir).toBe("/repo/prof");
    expect(parseBenchOptions([], ROOT).cpuProfileDir).toBeUndefined();
  });
});
