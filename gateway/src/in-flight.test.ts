import { describe, expect, it } from 'vitest';
import { createInFlight } from './in-flight.ts';

describe('createInFlight', () => {
  it('joins identical work while it runs and starts afresh once it settled', async () => {
    const inFlight = createInFlight<number>();
    let started = 0;
    let release!: (value: number) => void;
    const work = () => {
      started++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const first = inFlight.run('a', work);
    const second = inFlight.run('a', work);
    expect(inFlight.size).toBe(1);
    release(42);
    expect(await Promise.all([first, second])).toEqual([42, 42]);
    expect(inFlight.size).toBe(0);
    const third = inFlight.run('a', work);
    release(7);
    expect(await third).toBe(7);
    expect(started).toBe(2);
  });

  it('keeps different keys apart and forgets failures', async () => {
    const inFlight = createInFlight<string>();
    const [a, b] = await Promise.all([inFlight.run('a', async () => 'a'), inFlight.run('b', async () => 'b')]);
    expect([a, b]).toEqual(['a', 'b']);
    await expect(
      inFlight.run('c', () => {
        throw new Error('synchronous');
      }),
    ).rejects.toThrow('synchronous');
    expect(inFlight.size).toBe(0);
  });

  it('never joins work of another group (another identity), even with the same key', async () => {
    const inFlight = createInFlight<string>();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const a = inFlight.run('body', async () => (await gate, 'alice'), 'alice');
    const b = inFlight.run('body', async () => (await gate, 'bob'), 'bob');
    const a2 = inFlight.run('body', async () => 'not started', 'alice');
    expect(inFlight.size).toBe(2);
    release();
    expect(await Promise.all([a, b, a2])).toEqual(['alice', 'bob', 'alice']);
    expect(inFlight.size).toBe(0);
  });
});
