import { describe, expect, it } from "vitest";
import { raceAbort, SharedComputation } from "./shared-computation.js";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe("SharedComputation", () => {
  it("runs once for many callers and keeps the value", async () => {
    let runs = 0;
    const shared = new SharedComputation(async () => {
      runs++;
      return 42;
    });
    expect(await Promise.all([shared.get(), shared.get(), shared.get()])).toEqual([42, 42, 42]);
    expect(await shared.get()).toBe(42);
    expect(runs).toBe(1);
    expect(shared.settled).toEqual({ value: 42 });
  });

  it("does not keep failures", async () => {
    let runs = 0;
    const shared = new SharedComputation(async () => {
      runs++;
      if (runs === 1) throw new Error("transient");
      return "ok";
    });
    await expect(shared.get()).rejects.toThrow("transient");
    expect(await shared.get()).toBe("ok");
  });

  it("keeps running for the callers that did not abort", async () => {
    const work = deferred<string>();
    let signalSeen: AbortSignal | undefined;
    const shared = new SharedComputation((signal) => {
      signalSeen = signal;
      return work.promise;
    });
    const impatient = new AbortController();
    const first = shared.get(impatient.signal);
    const second = shared.get();
    impatient.abort(new Error("gave up"));
    await expect(first).rejects.toThrow("gave up");
    expect(signalSeen?.aborted).toBe(false);
    work.resolve("done");
    expect(await second).toBe("done");
  });

  it("aborts the work when every caller gave up, and starts afresh next time", async () => {
    const signals: AbortSignal[] = [];
    const shared = new SharedComputation(
      (signal) =>
        new Promise<string>((resolve, reject) => {
          signals.push(signal);
          signal.addEventListener("abort", () => reject(signal.reason));
          if (signals.length === 2) resolve("second run");
        }),
    );
    const controller = new AbortController();
    const waiting = shared.get(controller.signal);
    await Promise.resolve();
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
    expect(signals[0]?.aborted).toBe(true);
    expect(await shared.get()).toBe("second run");
  });

  it("accepts a value offered by a read that computed it", async () => {
    const shared = new SharedComputation(async () => "computed");
    shared.offer("offered");
    shared.offer("too late");
    expect(await shared.get()).toBe("offered");
  });

  it("rejects at once for an aborted signal", async () => {
    const shared = new SharedComputation(async () => 1);
    await expect(shared.get(AbortSignal.abort(new Error("already")))).rejects.toThrow("already");
  });
});

describe("raceAbort", () => {
  it("passes values and errors through and removes its listener", async () => {
    const controller = new AbortController();
    expect(await raceAbort(Promise.resolve(1), controller.signal)).toBe(1);
    await expect(raceAbort(Promise.reject(new Error("no")), controller.signal)).rejects.toThrow(
      "no",
    );
    expect(await raceAbort(Promise.resolve(2), undefined)).toBe(2);
  });

  it("rejects every waiter on abort behind one listener, without a MaxListenersExceededWarning", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    try {
      const controller = new AbortController();
      const never = new Promise<number>(() => {});
      // Many settle normally first; their listeners must not pile up.
      for (let i = 0; i < 30; i++) {
        expect(await raceAbort(Promise.resolve(i), controller.signal)).toBe(i);
      }
      const waiting = Array.from({ length: 30 }, () => raceAbort(never, controller.signal));
      const reason = new Error("stop");
      controller.abort(reason);
      for (const result of await Promise.allSettled(waiting)) {
        expect(result).toEqual({ status: "rejected", reason });
      }
      // A signal aborted already rejects at once.
      await expect(raceAbort(never, controller.signal)).rejects.toBe(reason);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain("MaxListenersExceededWarning");
    } finally {
      process.off("warning", onWarning);
    }
  });
});
