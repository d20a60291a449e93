/**
 * A push-driven async iterator: the shape `subscribe` resolvers return.
 *
 * Why not an async generator: a generator suspended in `await` cannot be
 * returned until its next `yield`, so a client that unsubscribes during a
 * quiet stream would keep its Redis listener until the next event. Here
 * `return()` settles waiting `next()` calls and runs `onClose` at once.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  readonly #values: T[] = [];
  readonly #waiting: Array<{ resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void }> = [];
  readonly #onClose: () => void;
  #ended = false;
  #error: unknown = undefined;
  #closed = false;

  constructor(onClose: () => void) {
    this.#onClose = onClose;
  }

  /** Delivers `value` to the next waiting `next()` (or keeps it until one comes). */
  push(value: T): void {
    if (this.#ended) return;
    const waiter = this.#waiting.shift();
    if (waiter) waiter.resolve({ value, done: false });
    else this.#values.push(value);
  }

  /** No more values: `next()` answers done once the queued ones are consumed. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const waiter of this.#waiting.splice(0)) waiter.resolve({ value: undefined, done: true });
    this.#close();
  }

  /** Ends with an error: the next `next()` rejects with it. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const waiters = this.#waiting.splice(0);
    if (waiters.length > 0) {
      this.#error = undefined;
      for (const waiter of waiters) waiter.reject(error);
    }
    this.#close();
  }

  get isEnded(): boolean {
    return this.#ended;
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.#values.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.#error !== undefined) {
      const error = this.#error;
      this.#error = undefined;
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.#values.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.#values.length = 0;
    this.end();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
  }
}
