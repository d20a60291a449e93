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
  /**
   * `group` partitions keys (callers of different identities never share);
   * a long `key` (a request body) is hashed as it is, never copied into a
   * combined string first.
   */
  run(key: string, start: () => Promise<T>, group?: string): Promise<T>;
  /** How many keys are running now (for tests). */
  readonly size: number;
}

export function createInFlight<T>(): InFlight<T> {
  const groups = new Map<string, Map<string, Promise<T>>>();
  let size = 0;
  return {
    run(key, start, group = '') {
      let running = groups.get(group);
      const existing = running?.get(key);
      if (existing) return existing;
      if (!running) groups.set(group, (running = new Map()));
      const inGroup = running;
      const promise = (async () => start())().finally(() => {
        inGroup.delete(key);
        size--;
        if (inGroup.size === 0) groups.delete(group);
      });
      inGroup.set(key, promise);
      size++;
      return promise;
    },
    get size() {
      return size;
    },
  };
}
