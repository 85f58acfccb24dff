// A lazily started computation that many callers may await, each with its own AbortSignal.
// The work runs once; its result is kept. A failure is not kept, so the next caller retries.
// The work is aborted only when every caller waiting for it has given up, so one caller's
// abort never fails another's request.

interface Watchers {
  readonly waiting: Set<(reason: unknown) => void>;
  readonly onAbort: () => void;
}

/**
 * The callers racing each signal, behind one abort listener per signal: many requests of one
 * operation wait at once with its signal (a push of 64 layers asks for a credential 16 times
 * at once), and more than ten listeners on a signal make Node print a
 * MaxListenersExceededWarning on stderr.
 */
const racing = new WeakMap<AbortSignal, Watchers>();

function watchAbort(signal: AbortSignal, onAbort: (reason: unknown) => void): () => void {
  let watchers = racing.get(signal);
  if (!watchers) {
    const waiting = new Set<(reason: unknown) => void>();
    const created: Watchers = {
      waiting,
      onAbort: () => {
        racing.delete(signal);
        for (const waiter of waiting) waiter(signal.reason);
      },
    };
    racing.set(signal, created);
    signal.addEventListener("abort", created.onAbort, { once: true });
    watchers = created;
  }
  const current = watchers;
  current.waiting.add(onAbort);
  return () => {
    current.waiting.delete(onAbort);
    if (current.waiting.size > 0 || racing.get(signal) !== current) return;
    racing.delete(signal);
    signal.removeEventListener("abort", current.onAbort);
  };
}

/**
 * Waits for `promise`, rejecting early with the signal's reason when it aborts. The work behind
 * the promise is not stopped; the caller just stops waiting for it.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const stopWatching = watchAbort(signal, reject);
    promise.then(
      (value) => {
        stopWatching();
        resolve(value);
      },
      (error: unknown) => {
        stopWatching();
        reject(error);
      },
    );
  });
}

interface Run<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

/**
 * A value computed once, on first need, that many callers may await with their own signals:
 * how an `Image` or `Layer` implementation keeps a digest or a built manifest. `compute` gets a
 * signal that aborts only when every waiting caller gave up.
 */
export class SharedComputation<T> {
  readonly #compute: (signal: AbortSignal) => Promise<T>;
  #result: { value: T } | undefined;
  #run: Run<T> | undefined;

  constructor(compute: (signal: AbortSignal) => Promise<T>) {
    this.#compute = compute;
  }

  /** The value when it has been computed, else undefined. */
  get settled(): { value: T } | undefined {
    return this.#result;
  }

  /** Supplies the value from elsewhere (a read that computed it on the way); first one wins. */
  offer(value: T): void {
    if (!this.#result) this.#result = { value };
  }

  /** The value, computing it if no one has yet; rejects early when `signal` aborts. */
  async get(signal?: AbortSignal): Promise<T> {
    if (this.#result) return this.#result.value;
    signal?.throwIfAborted();
    const run = this.#run ?? this.#start();
    run.waiters++;
    try {
      return await raceAbort(run.promise, signal);
    } finally {
      run.waiters--;
      if (run.waiters === 0 && !this.#result && signal?.aborted && this.#run === run) {
        this.#run = undefined;
        run.controller.abort(signal.reason);
      }
    }
  }

  #start(): Run<T> {
    const controller = new AbortController();
    const run: Run<T> = { controller, waiters: 0, promise: Promise.resolve() as Promise<T> };
    run.promise = Promise.resolve()
      .then(() => this.#compute(controller.signal))
      .then(
        (value) => {
          this.#result = { value };
          if (this.#run === run) this.#run = undefined;
          return value;
        },
        (error: unknown) => {
          if (this.#run === run) this.#run = undefined;
          throw error;
        },
      );
    // Waiters that gave up leave this promise unobserved; its rejection is theirs to ignore.
    run.promise.catch(() => {});
    this.#run = run;
    return run;
  }
}
