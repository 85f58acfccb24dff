import { describe, expect, it } from "vitest";
import { median, ratio, rotation, summarize } from "./statistics.js";

describe("median", () => {
  it.each([
    [[5], 5],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[10, 10, 1, 10, 10], 10],
  ])("of %j is %d", (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it("leaves its input unsorted", () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it("refuses an empty list", () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe("summarize", () => {
  it("gives count, median, min and max", () => {
    expect(summarize([120, 100, 300, 110, 105])).toEqual({
      count: 5,
      median: 110,
      min: 100,
      max: 300,
    });
  });
});

describe("ratio", () => {
  it("divides medians and has no value without both sides", () => {
    expect(ratio(50, 100)).toBe(0.5);
    expect(ratio(undefined, 100)).toBeUndefined();
    expect(ratio(50, undefined)).toBeUndefined();
    expect(ratio(50, 0)).toBeUndefined();
  });
});

describe("rotation", () => {
  it("starts each round with the next tool", () => {
    const tools = ["skopeo", "hoist", "ceiling"];
    expect([0, 1, 2, 3].map((round) => rotation(tools, round).join(","))).toEqual([
      "skopeo,hoist,ceiling",
      "hoist,ceiling,skopeo",
      "ceiling,skopeo,hoist",
      "skopeo,hoist,ceiling",
    ]);
    expect(rotation([], 3)).toEqual([]);
  });
});
