// A value computed once, on first need, by work that many callers may wait for with their own
// AbortSignals. The work is aborted only when every waiting caller gave up, so one caller's abort
// never fails another's read; a failure is not kept, so the next caller tries again.

/** @internal Waits for `promise`, rejecting early with the signal's reason when it aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** @internal */
export class Lazy<T> {
  readonly #compute: (signal: AbortSignal) => Promise<T>;
  #value: { value: T } | undefined;
  #run: { promise: Promise<T>; controller: AbortController; waiters: number } | undefined;

  constructor(compute: (signal: AbortSignal) => Promise<T>) {
    this.#compute = compute;
  }

  /** The value if it was computed already. */
  get known(): T | undefined {
    return this.#value?.value;
  }

  async get(signal?: AbortSignal): Promise<T> {
    if (this.#value) return this.#value.value;
    signal?.throwIfAborted();
    let run = this.#run;
    if (!run) {
      const controller = new AbortController();
      const promise = Promise.resolve().then(() => this.#compute(controller.signal));
      const started = { promise, controller, waiters: 0 };
      promise.then(
        (value) => {
          this.#value = { value };
          if (this.#run === started) this.#run = undefined;
        },
        () => {
          if (this.#run === started) this.#run = undefined;
        },
      );
      this.#run = started;
      run = started;
    }
    run.waiters++;
    try {
      return await raceAbort(run.promise, signal);
    } finally {
      run.waiters--;
      if (run.waiters === 0 && !this.#value && signal?.aborted && this.#run === run) {
        this.#run = undefined;
        run.controller.abort(signal.reason);
      }
    }
  }
}
