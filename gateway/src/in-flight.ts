/**
 * Identical work started while the same work is still running joins it
 * instead of running again; once it settles, the next call starts afresh.
 * Nothing is cached beyond the in-flight window.
 *
 * @example
 * const inFlight = createInFlight<Response>();
 * const response = await inFlight.run(key, () => fetchIt());
 */
export interface InFlight<T> {
  run(key: string, start: () => Promise<T>): Promise<T>;
  /** How many keys are running now (for tests). */
  readonly size: number;
}

export function createInFlight<T>(): InFlight<T> {
  const running = new Map<string, Promise<T>>();
  return {
    run(key, start) {
      const existing = running.get(key);
      if (existing) return existing;
      const promise = (async () => start())().finally(() => running.delete(key));
      running.set(key, promise);
      return promise;
    },
    get size() {
      return running.size;
    },
  };
}
