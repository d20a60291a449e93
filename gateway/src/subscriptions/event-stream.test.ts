import { describe, expect, it } from 'vitest';
import { EventStream } from './event-stream.ts';

describe('EventStream', () => {
  it('delivers pushed results in order, then the last one, then done; onEnd runs once', async () => {
    let ended = 0;
    const stream = new EventStream(() => ended++);
    const waiting = stream.next();
    stream.push({ data: { n: 1 } });
    stream.push({ data: { n: 2 } });
    stream.end({ errors: [] });
    stream.end();
    stream.push({ data: { n: 3 } });
    expect(await waiting).toEqual({ value: { data: { n: 1 } }, done: false });
    expect(await stream.next()).toEqual({ value: { data: { n: 2 } }, done: false });
    expect(await stream.next()).toEqual({ value: { errors: [] }, done: false });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(ended).toBe(1);
  });

  it('return() ends at once, dropping what was buffered, and wakes a waiting consumer', async () => {
    let ended = 0;
    const stream = new EventStream(() => ended++);
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    stream.push({ data: {} });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(stream.ended).toBe(true);
    expect(ended).toBe(1);
  });
});
