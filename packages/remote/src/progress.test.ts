import { describe, expect, it } from "vitest";
import type { Progress } from "./options.js";
import { ProgressTracker } from "./progress.js";

describe("progress", () => {
  it("never counts a retried blob's bytes twice and ends at the planned total", () => {
    const seen: Progress[] = [];
    const tracker = new ProgressTracker((p) => seen.push(p));
    tracker.plan(100);
    tracker.plan(50);
    tracker.start();
    const blob = tracker.counter(100);
    blob.at(40);
    blob.at(10); // a retry starts over
    blob.at(60);
    blob.done();
    const other = tracker.counter(50);
    other.done();
    other.done();
    expect(seen.map((p) => p.complete)).toEqual([0, 40, 60, 100, 150]);
    expect(seen.every((p) => p.total === 150)).toBe(true);
  });

  it("counts unplanned bytes (streamed layers) in both figures as they flow", () => {
    const seen: Progress[] = [];
    const tracker = new ProgressTracker((p) => seen.push(p));
    tracker.plan(10);
    const stream = tracker.counter(undefined);
    stream.at(5);
    stream.at(12);
    stream.done();
    tracker.advance(10);
    expect(seen).toEqual([
      { complete: 5, total: 15 },
      { complete: 12, total: 22 },
      { complete: 22, total: 22 },
    ]);
  });
});
