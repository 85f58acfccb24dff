import { describe, expect, it } from "vitest";
import { Limiter, mapLimit } from "./limiter.js";

describe("Limiter", () => {
  it("runs at most `limit` tasks at once, in arrival order", async () => {
    const limiter = new Limiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        limiter.run(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await new Promise((resolve) => setTimeout(resolve, 5));
          active--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("stops waiting when the signal aborts, and frees the slot of a failed task", async () => {
    const limiter = new Limiter(1);
    let release!: () => void;
    const blocker = limiter.run(() => new Promise<void>((resolve) => (release = resolve)));
    const controller = new AbortController();
    const waiting = limiter.run(async () => "never", controller.signal);
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
    release();
    await blocker;
    await expect(limiter.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow(
      "boom",
    );
    expect(await limiter.run(async () => "next")).toBe("next");
  });

  it("gives a slot without waiting only when one is free and nobody queues for it", async () => {
    const limiter = new Limiter(1);
    const first = limiter.tryAcquire();
    expect(first).toBeTypeOf("function");
    expect(limiter.tryAcquire()).toBeUndefined();
    const queued = limiter.acquire();
    first?.();
    // The freed slot went to the waiter, not to a caller that did not wait.
    expect(limiter.tryAcquire()).toBeUndefined();
    const second = await queued;
    second();
    // Giving back twice frees one slot, not two.
    second();
    const third = limiter.tryAcquire();
    expect(third).toBeTypeOf("function");
    expect(limiter.tryAcquire()).toBeUndefined();
    third?.();
  });

  it("keeps one abort listener per signal however many tasks wait with it", async () => {
    const limiter = new Limiter(1);
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      let release!: () => void;
      const blocker = limiter.run(() => new Promise<void>((resolve) => (release = resolve)));
      const order: number[] = [];
      const waiting = Array.from({ length: 40 }, (_, i) =>
        limiter.run(async () => {
          order.push(i);
        }, controller.signal),
      );
      await new Promise((resolve) => setImmediate(resolve));
      release();
      await blocker;
      await Promise.all(waiting);
      expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
      // Every waiter was granted, so nothing listens on the signal any more.
      const late = Array.from({ length: 30 }, () =>
        limiter.run(() => new Promise<void>(() => {}), controller.signal),
      );
      const reason = new Error("stop");
      controller.abort(reason);
      // The first of them holds the slot (its task never ends); the others are rejected.
      const settled = await Promise.race([
        Promise.allSettled(late.slice(1)),
        new Promise((resolve) => setTimeout(resolve, 1000, "hung")),
      ]);
      expect(settled).not.toBe("hung");
      for (const result of settled as PromiseSettledResult<void>[]) {
        expect(result).toEqual({ status: "rejected", reason });
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((warning) => warning.name)).not.toContain("MaxListenersExceededWarning");
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("hands out slots that are given back once, however often released", async () => {
    const limiter = new Limiter(1);
    const release = await limiter.acquire();
    let second = false;
    const next = limiter.acquire().then((give) => {
      second = true;
      return give;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(second).toBe(false);
    release();
    release();
    const giveSecond = await next;
    // The double release did not free a second slot: a third waits for the second.
    let third = false;
    const later = limiter.acquire().then(() => {
      third = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(third).toBe(false);
    giveSecond();
    await later;
    expect(third).toBe(true);
  });

  it("rejects a waiting acquire when its signal aborts", async () => {
    const limiter = new Limiter(1);
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it("maps with a bound, keeping order", async () => {
    expect(await mapLimit([3, 1, 2], 2, async (n) => n * 2)).toEqual([6, 2, 4]);
    expect(await mapLimit([], 4, async (n: number) => n)).toEqual([]);
  });
});
