/**
 * At most `limit` tasks at once, first come first served. One limiter serves a whole
 * push or copy, so `jobs` bounds the operation rather than each image in it. Only leaf work
 * (a blob transfer, a manifest request) holds a slot; walking images and indexes never does,
 * so nested work cannot deadlock waiting for its parent's slot.
 */
export class Limiter {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: Waiter[] = [];
  /**
   * One abort listener per signal for all the tasks waiting with it, not one per task: a push
   * of 64 layers queues them all on the operation's signal, and more than ten listeners on one
   * signal make Node print a MaxListenersExceededWarning on stderr.
   */
  readonly #watched = new Map<AbortSignal, { waiters: number; onAbort: () => void }>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal);
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  /**
   * Takes a slot and resolves with the function that gives it back (once; later calls do
   * nothing). For work whose slot is handed on before it ends, which `run` cannot express.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    await this.#acquire(signal);
    return this.#giveBack();
  }

  /**
   * Takes a slot only if one is free now and nobody is waiting for it: the function that gives
   * it back, or undefined. For work that can go on without it (it then keeps what it holds).
   */
  tryAcquire(): (() => void) | undefined {
    if (this.#active >= this.#limit || this.#waiting.length > 0) return undefined;
    this.#active++;
    return this.#giveBack();
  }

  #giveBack(): () => void {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#release();
    };
  }

  #acquire(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.#active < this.#limit) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ signal, resolve, reject });
      if (signal) this.#watch(signal);
    });
  }

  #watch(signal: AbortSignal): void {
    const watched = this.#watched.get(signal);
    if (watched) {
      watched.waiters++;
      return;
    }
    const onAbort = () => {
      this.#watched.delete(signal);
      for (let at = this.#waiting.length - 1; at >= 0; at--) {
        const waiter = this.#waiting[at] as Waiter;
        if (waiter.signal !== signal) continue;
        this.#waiting.splice(at, 1);
        waiter.reject(signal.reason);
      }
    };
    this.#watched.set(signal, { waiters: 1, onAbort });
    signal.addEventListener("abort", onAbort, { once: true });
  }

  #unwatch(signal: AbortSignal): void {
    const watched = this.#watched.get(signal);
    if (!watched) return;
    watched.waiters--;
    if (watched.waiters > 0) return;
    this.#watched.delete(signal);
    signal.removeEventListener("abort", watched.onAbort);
  }

  #release(): void {
    this.#active--;
    const next = this.#waiting.shift();
    if (!next) return;
    if (next.signal) this.#unwatch(next.signal);
    this.#active++;
    next.resolve();
  }
}

interface Waiter {
  readonly signal: AbortSignal | undefined;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
}

/** Maps with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
