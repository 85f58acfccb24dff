import { expect, it } from "vitest";
import { classifyError, Tally, timedRun } from "../src/index.js";

it("README example", async () => {
  const logged: unknown[] = [];
  const log = (value: unknown) => logged.push(value);

  const tally = new Tally("example", { boundMs: 5000 });
  const report = await timedRun({ boundMs: 5000 }, async (signal) => {
    signal.throwIfAborted(); // a real run passes the signal to hoist
  });
  if (report.outcome === "finished") tally.verified(report.durationMs);
  else tally.failure(report);
  log(classifyError(new Error("plain")).typed); // false: not a hoist error

  expect(logged).toEqual([false]);
  expect(tally.result).toMatchObject({ runs: 1, verified: 1, untyped: 0 });
});

it("counts a run past its bound as untyped, and a hoist error as typed", async () => {
  const tally = new Tally("bounds", { boundMs: 50 });
  const hung = await timedRun({ boundMs: 50, abandonAfterMs: 10 }, () => new Promise(() => {}));
  expect(hung.outcome).toBe("hung");
  if (hung.outcome !== "finished") tally.failure(hung);
  const { TransportError } = await import("@hoist/transport");
  const typed = await timedRun({ boundMs: 1000 }, async () => {
    throw new TransportError("no", { code: "HOIST_TRANSPORT_NETWORK", operation: "test" });
  });
  if (typed.outcome !== "finished") tally.failure(typed);
  expect(tally.result).toMatchObject({ runs: 2, typed: 1, untyped: 1 });
  expect(tally.result.codes).toEqual({ HOIST_TRANSPORT_NETWORK: 1 });
});
