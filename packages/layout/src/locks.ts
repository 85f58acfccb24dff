// In-process coordination of one Layout's operations. Writers share the layout (they only add
// blobs under content addresses, which never conflict); garbage collection needs it alone, or it
// could delete a blob that an append has written but not yet listed in index.json. Edits of
// index.json run one at a time so no edit is lost. Nothing here coordinates separate processes.

interface Waiter {
  exclusive: boolean;
  start: () => void;
}

/** @internal A readers-writer lock that prefers the writer, with abortable waits. */
export class SharedExclusiveLock {
  #shared = 0;
  #exclusive = false;
  readonly #queue: Waiter[] = [];

  /** Runs `work` while others may also hold the lock shared. */
  shared<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#run(false, work, signal);
  }

  /** Runs `work` while nobody else holds the lock. */
  exclusive<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#run(true, work, signal);
  }

  async #run<T>(exclusive: boolean, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(exclusive, signal);
    try {
      return await work();
    } finally {
      this.#release(exclusive);
    }
  }

  #free(exclusive: boolean): boolean {
    if (exclusive) return !this.#exclusive && this.#shared === 0;
    // A waiting exclusive holder goes first, so a stream of appends cannot starve a collection.
    return !this.#exclusive && !this.#queue.some((waiter) => waiter.exclusive);
  }

  #take(exclusive: boolean): void {
    if (exclusive) this.#exclusive = true;
    else this.#shared++;
  }

  #acquire(exclusive: boolean, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#queue.length === 0 && this.#free(exclusive)) {
      this.#take(exclusive);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        exclusive,
        start: () => {
          signal?.removeEventListener("abort", onAbort);
          this.#take(exclusive);
          resolve();
        },
      };
      const onAbort = () => {
        const position = this.#queue.indexOf(waiter);
        if (position !== -1) this.#queue.splice(position, 1);
        reject(signal?.reason);
        this.#wake();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #release(exclusive: boolean): void {
    if (exclusive) this.#exclusive = false;
    else this.#shared--;
    this.#wake();
  }

  #wake(): void {
    while (this.#queue.length > 0) {
      const [next] = this.#queue;
      if (!next) return;
      const free = next.exclusive ? !this.#exclusive && this.#shared === 0 : !this.#exclusive;
      if (!free) return;
      this.#queue.shift();
      next.start();
      if (next.exclusive) return;
    }
  }
}

/** @internal Runs at most `limit` tasks at a time, in the order they were queued. */
export class Limiter {
  #running = 0;
  readonly #limit: number;
  readonly #queue: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
