import type { Clock } from "./clock.js";

/** Optional throttles for one host. */
export interface HostLimits {
  /** Requests in flight at once (from sending until the response body is finished). */
  readonly maxConcurrent?: number;
  /** Requests started per second, on average; bursts of up to one second's worth pass. */
  readonly requestsPerSecond?: number;
}

interface HostState {
  active: number;
  waiters: Array<() => void>;
  tokens: number;
  refilledAt: number;
}

/** The release of a request on a host without limits: there is nothing to hand back. */
export const unlimited: () => void = () => {};

/**
 * Per-host concurrency cap and token-bucket rate limit. `acquire` resolves with a release
 * function once the request may start.
 */
export class HostLimiter {
  readonly #limitsFor: (host: string) => HostLimits | undefined;
  readonly #clock: Clock;
  readonly #hosts = new Map<string, HostState>();

  constructor(limitsFor: (host: string) => HostLimits | undefined, clock: Clock) {
    this.#limitsFor = limitsFor;
    this.#clock = clock;
  }

  /**
   * The release function when the request may start at once without waiting (always, on a host
   * without limits), else undefined: then `acquire`. Most requests need no promise for this.
   */
  tryAcquire(host: string): (() => void) | undefined {
    let limits: HostLimits | undefined;
    try {
      limits = this.#limitsFor(host);
    } catch {
      return undefined; // acquire rejects with it, where the caller handles failures
    }
    if (!limits || (limits.maxConcurrent === undefined && limits.requestsPerSecond === undefined)) {
      return unlimited;
    }
    return undefined;
  }

  async acquire(host: string, signal?: AbortSignal): Promise<() => void> {
    const limits = this.#limitsFor(host);
    if (!limits || (limits.maxConcurrent === undefined && limits.requestsPerSecond === undefined)) {
      return unlimited;
    }
    let state = this.#hosts.get(host);
    if (!state) {
      state = {
        active: 0,
        waiters: [],
        tokens: limits.requestsPerSecond ?? 0,
        refilledAt: this.#clock.now(),
      };
      this.#hosts.set(host, state);
    }
    if (limits.maxConcurrent !== undefined)
      await this.#takeSlot(state, limits.maxConcurrent, signal);
    try {
      if (limits.requestsPerSecond !== undefined) {
        await this.#takeToken(state, limits.requestsPerSecond, signal);
      }
    } catch (error) {
      if (limits.maxConcurrent !== undefined) this.#releaseSlot(state);
      throw error;
    }
    let released = false;
    return () => {
      if (released || limits.maxConcurrent === undefined) return;
      released = true;
      this.#releaseSlot(state);
    };
  }

  #takeSlot(state: HostState, max: number, signal?: AbortSignal): Promise<void> {
    if (state.active < max) {
      state.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = () => {
        signal?.removeEventListener("abort", onAbort);
        state.active++;
        resolve();
      };
      const onAbort = () => {
        const index = state.waiters.indexOf(waiter);
        if (index >= 0) state.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      state.waiters.push(waiter);
    });
  }

  #releaseSlot(state: HostState): void {
    state.active--;
    state.waiters.shift()?.();
  }

  async #takeToken(state: HostState, rate: number, signal?: AbortSignal): Promise<void> {
    const burst = Math.max(1, rate);
    for (;;) {
      const now = this.#clock.now();
      state.tokens = Math.min(burst, state.tokens + ((now - state.refilledAt) / 1000) * rate);
      state.refilledAt = now;
      if (state.tokens >= 1) {
        state.tokens -= 1;
        return;
      }
      const waitMs = Math.ceil(((1 - state.tokens) / rate) * 1000);
      await this.#clock.sleep(waitMs, { signal });
    }
  }
}
