import { describe, expect, it } from 'vitest';
import { decodeOffsetCursor, offsetCursor } from './pagination.ts';
import { requireIntInRange, requireJsonObject, requireText, requireUuid } from './validate.ts';

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return (error as { extensions?: { code?: string; field?: string } }).extensions;
  }
  return undefined;
}

describe('validators', () => {
  it('trims and bounds text', () => {
    expect(requireText('  hi ', 'query', { max: 5 })).toBe('hi');
    expect(codeOf(() => requireText('   ', 'query', { max: 5 }))).toEqual({ code: 'BAD_USER_INPUT', field: 'query' });
    expect(codeOf(() => requireText('toolong', 'query', { max: 5 }))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'query',
    });
  });

  it('bounds integers, checks UUIDs and JSON objects', () => {
    expect(requireIntInRange(5, 'first', 1, 100)).toBe(5);
    expect(codeOf(() => requireIntInRange(0, 'first', 1, 100))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(codeOf(() => requireIntInRange(1.5, 'first', 1, 100))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(requireUuid('0B8F3A64-4C1E-4E7A-9A3B-2D3C4E5F6A7B', 'id')).toBe('0b8f3a64-4c1e-4e7a-9a3b-2d3c4e5f6a7b');
    expect(codeOf(() => requireUuid("1' or '1'='1", 'id'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(codeOf(() => requireJsonObject([1], 'preferences', 100))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(codeOf(() => requireJsonObject({ a: 'x'.repeat(200) }, 'preferences', 100))).toMatchObject({
      code: 'BAD_USER_INPUT',
    });
  });

  it('round-trips offset cursors and rejects forged ones', () => {
    expect(decodeOffsetCursor(offsetCursor(9))).toBe(10);
    expect(decodeOffsetCursor(undefined)).toBe(0);
    expect(codeOf(() => decodeOffsetCursor('not-a-cursor'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(codeOf(() => decodeOffsetCursor(Buffer.from('{"o":-1}').toString('base64url')))).toMatchObject({
      code: 'BAD_USER_INPUT',
    });
  });
});
