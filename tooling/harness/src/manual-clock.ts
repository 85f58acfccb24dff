/**
 * A clock for tests: `sleep` returns at once and moves time forward, so backoff, Retry-After
 * and token expiry run instantly while the delays asked for stay visible in `sleeps`.
 * Structurally matches @hoist/transport's `Clock`.
 */
export interface ManualClock {
  now(): number;
  sleep(ms: number, options?: { signal?: AbortSignal | undefined }): Promise<void>;
  /** Moves time forward without sleeping (token expiry, rate-limit windows). */
  advance(ms: number): void;
  /** Every delay `sleep` was asked for, in order. */
  readonly sleeps: number[];
}

export function manualClock(options: { start?: number } = {}): ManualClock {
  let now = options.start ?? Date.UTC(2026, 0, 1);
  const sleeps: number[] = [];
  return {
    now: () => now,
    async sleep(ms, sleepOptions = {}) {
      if (sleepOptions.signal?.aborted) throw sleepOptions.signal.reason;
      sleeps.push(ms);
      now += Math.max(0, ms);
      // Yield so other tasks interleave as they would during a real wait.
      await new Promise((resolve) => setImmediate(resolve));
      if (sleepOptions.signal?.aborted) throw sleepOptions.signal.reason;
    },
    advance(ms) {
      now += ms;
    },
    sleeps,
  };
}
