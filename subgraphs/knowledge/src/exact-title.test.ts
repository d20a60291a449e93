import { describe, expect, it } from 'vitest';
import { exactTitleOf } from './query-text.ts';

describe('exactTitleOf', () => {
  it('trims and collapses whitespace (lower-casing happens in SQL)', () => {
    expect(exactTitleOf('  Light \t  Speed ')).toBe('Light Speed');
    expect(exactTitleOf('entity')).toBe('entity');
  });

  it('disables the boost for web-search operators and empty queries', () => {
    expect(exactTitleOf('"light speed"')).toBeNull();
    expect(exactTitleOf('light -speed')).toBeNull();
    expect(exactTitleOf('light OR speed')).toBeNull();
    expect(exactTitleOf('   ')).toBeNull();
    expect(exactTitleOf('well-known')).toBe('well-known');
  });
});
