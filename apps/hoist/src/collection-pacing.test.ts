import { describe, expect, it } from "vitest";
import { COLLECT_EVERY, paceCollections } from "./collection-pacing.js";
import type { ProgressView } from "./progress.js";

function recordingView() {
  const updates: number[] = [];
  const view: ProgressView = {
    update: ({ complete }) => updates.push(complete),
    item() {},
    stop() {},
  };
  return { view, updates };
}

describe("paceCollections", () => {
  it("collects once per COLLECT_EVERY bytes and passes every update on", () => {
    const { view, updates } = recordingView();
    let collections = 0;
    const paced = paceCollections(view, () => collections++);
    const chunk = 64 * 1024;
    const steps = (3 * COLLECT_EVERY) / chunk;
    for (let i = 1; i <= steps; i++)
      paced.update({ complete: i * chunk, total: 3 * COLLECT_EVERY });
    expect(updates).toHaveLength(steps);
    expect(collections).toBe(3);
  });

  it("starts over when the count goes back", () => {
    const { view } = recordingView();
    let collections = 0;
    const paced = paceCollections(view, () => collections++);
    paced.update({ complete: COLLECT_EVERY + 1, total: 2 * COLLECT_EVERY });
    paced.update({ complete: 10, total: 2 * COLLECT_EVERY });
    paced.update({ complete: COLLECT_EVERY, total: 2 * COLLECT_EVERY });
    expect(collections).toBe(1);
    paced.update({ complete: COLLECT_EVERY + 10, total: 2 * COLLECT_EVERY });
    expect(collections).toBe(2);
  });

  it("leaves the view as it is without a collector", () => {
    const { view } = recordingView();
    expect(paceCollections(view, undefined)).toBe(view);
  });
});
