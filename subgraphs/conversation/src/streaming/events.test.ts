import { describe, expect, it } from 'vitest';
import { parseStreamEvent } from './events.ts';

const EVENT = { kind: 'DELTA', sequence: 1, delta: 'Hi', messageId: 'm', conversationId: 'c' };

describe('parseStreamEvent and traceparent', () => {
  it("keeps a W3C traceparent (the sendMessage's trace) and an event without one as it is", () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(parseStreamEvent(JSON.stringify({ ...EVENT, traceparent }))).toEqual({ ...EVENT, traceparent });
    expect(parseStreamEvent(JSON.stringify(EVENT))).toEqual(EVENT);
  });

  it('drops a traceparent that is not one, and keeps the event', () => {
    for (const traceparent of ['00-zz', 42, '00-' + '0'.repeat(32) + '-b7ad6b7169203331-01', 'x'.repeat(10_000)])
      expect(parseStreamEvent(JSON.stringify({ ...EVENT, traceparent }))).toEqual(EVENT);
  });
});
