import { manualClock } from "@hoist/harness";
import { describe, expect, it } from "vitest";
import { HostLimiter } from "./host-limiter.js";

describe("HostLimiter", () => {
  it("caps concurrent requests per host and hands slots on in order", async () => {
    const limiter = new HostLimiter(() => ({ maxConcurrent: 2 }), manualClock());
    const first = await limiter.acquire("a");
    const second = await limiter.acquire("a");
    const order: string[] = [];
    const third = limiter.acquire("a").then((release) => {
      order.push("third");
      return release;
    });
    const otherHost = await limiter.acquire("b"); // hosts do not share slots
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    first();
    first(); // releasing twice frees one slot only
    const release = await third;
    expect(order).toEqual(["third"]);
    const aborted = limiter.acquire("a", AbortSignal.abort(new Error("stop")));
    await expect(aborted).rejects.toThrow("stop");
    second();
    release();
    otherHost();
  });

  it("spaces requests to the configured rate", async () => {
    const clock = manualClock();
    const limiter = new HostLimiter(() => ({ requestsPerSecond: 2 }), clock);
    for (let i = 0; i < 6; i++) (await limiter.acquire("a"))();
    // Two pass at once (a one-second burst), then one every 500 ms.
    expect(clock.sleeps).toEqual([500, 500, 500, 500]);
  });

  it("does nothing for hosts without limits", async () => {
    const clock = manualClock();
    const limiter = new HostLimiter(
      (host) => (host === "slow" ? { requestsPerSecond: 1 } : undefined),
      clock,
    );
    for (let i = 0; i < 5; i++) (await limiter.acquire("fast"))();
    expect(clock.sleeps).toEqual([]);
  });
});
