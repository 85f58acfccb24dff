import { describe, expect, it } from "vitest";
import { Limiter, SharedExclusiveLock } from "./locks.js";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("SharedExclusiveLock", () => {
  it("lets shared holders run together and the exclusive holder alone, writer first", async () => {
    const lock = new SharedExclusiveLock();
    const log: string[] = [];
    const first = deferred();
    const a = lock.shared(async () => {
      log.push("a start");
      await first.promise;
      log.push("a end");
    });
    const b = lock.shared(async () => {
      log.push("b");
    });
    await tick();
    const x = lock.exclusive(async () => {
      log.push("x");
    });
    // A shared request after a waiting exclusive one waits behind it.
    const c = lock.shared(async () => {
      log.push("c");
    });
    await tick();
    expect(log).toEqual(["a start", "b"]);
    first.resolve();
    await Promise.all([a, b, x, c]);
    expect(log).toEqual(["a start", "b", "a end", "x", "c"]);
  });

  it("gives up waiting when the signal aborts, and lets the others through", async () => {
    const lock = new SharedExclusiveLock();
    const hold = deferred();
    const held = lock.exclusive(() => hold.promise);
    const controller = new AbortController();
    const reason = new Error("stop");
    const waiting = lock.shared(async () => "never", controller.signal);
    const after = lock.shared(async () => "ran");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    hold.resolve();
    await held;
    expect(await after).toBe("ran");
    await expect(lock.shared(async () => 1, controller.signal)).rejects.toBe(reason);
  });

  it("releases the lock when the work fails", async () => {
    const lock = new SharedExclusiveLock();
    await expect(lock.exclusive(async () => Promise.reject(new Error("boom")))).rejects.toThrow(
      "boom",
    );
    expect(await lock.exclusive(async () => "free")).toBe("free");
  });
});

describe("Limiter", () => {
  it("runs at most `limit` tasks at a time, in order", async () => {
    const limiter = new Limiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, n) =>
        limiter.run(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(n);
          await tick();
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
