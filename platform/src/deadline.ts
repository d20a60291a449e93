/**
 * `work`'s result, or what `onTimeout` returns (or throws) once `timeoutMs`
 * has passed. The timer is cleared either way, and a late failure of the
 * abandoned `work` is nobody's to answer, so it is swallowed.
 *
 * @example
 * const value = await withDeadline(redis.get(key), 250, () => undefined); // a slow Redis is a miss
 */
export async function withDeadline<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, timeoutMs);
  });
  work.catch(() => {});
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
