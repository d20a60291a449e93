import type { ExecutionResult } from 'graphql';

/**
 * A push-fed `AsyncIterableIterator`: the core pushes results as upstream
 * events complete and ends it once (subgraph done, error, expiry, abort,
 * close). Unlike an async generator, `return()` takes effect at once even
 * while an event is being completed, so a client that goes away never waits
 * on a subgraph fetch before its upstream is closed.
 */
export class EventStream implements AsyncIterableIterator<ExecutionResult> {
  #buffered: ExecutionResult[] = [];
  #waiting: Array<(result: IteratorResult<ExecutionResult>) => void> = [];
  #ended = false;
  #onEnd: () => void;

  /** `onEnd` runs once, however the stream ends (by the producer or by the consumer's `return()`). */
  constructor(onEnd: () => void) {
    this.#onEnd = onEnd;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Delivers `result` to the consumer (buffered until it asks); ignored once ended. */
  push(result: ExecutionResult): void {
    if (this.#ended) return;
    const waiter = this.#waiting.shift();
    if (waiter) waiter({ value: result, done: false });
    else this.#buffered.push(result);
  }

  /** Ends the stream after whatever is buffered, optionally with one last result. */
  end(last?: ExecutionResult): void {
    if (this.#ended) return;
    if (last) this.push(last);
    this.#ended = true;
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
    this.#onEnd();
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const buffered = this.#buffered.shift();
    if (buffered) return Promise.resolve({ value: buffered, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** The consumer is done (client unsubscribed or went away): ends the stream, dropping what was buffered. */
  return(): Promise<IteratorResult<ExecutionResult>> {
    this.#buffered = [];
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(): Promise<IteratorResult<ExecutionResult>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
