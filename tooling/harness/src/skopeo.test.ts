import { expect, it } from "vitest";
import { skopeoRun } from "./skopeo.js";

it("runs the real skopeo and returns its stdout", async () => {
  expect(await skopeoRun("--version")).toMatch(/^skopeo version \d+\.\d+/);
});

it("rejects when skopeo fails", async () => {
  await expect(skopeoRun("inspect", "dir:/nonexistent/hoist-harness")).rejects.toThrow(
    /nonexistent/,
  );
});
