import { describe, expect, it } from 'vitest';
import { findNulCharacter, hasControlCharacters } from './validate.ts';

describe('findNulCharacter', () => {
  it('names the first argument path holding NUL', () => {
    expect(findNulCharacter({ input: { usernameOrEmail: 'a\0b', password: 'x' } }, '')).toBe('input.usernameOrEmail');
    expect(findNulCharacter({ preferences: { theme: ['dark', 'li\0ght'] } }, '')).toBe('preferences.theme[1]');
    expect(findNulCharacter({ name: '\0' }, '')).toBe('name');
  });

  it('finds NUL in a JSON object key', () => {
    expect(findNulCharacter({ preferences: { 'a\0': 1 } }, '')).toBe('preferences');
  });

  it('passes clean values, other control characters and non-strings', () => {
    expect(findNulCharacter({ a: 'tab\tnew\nline', b: 1, c: null, d: [true, { e: 'ok' }] }, '')).toBeUndefined();
  });

  it('walks deep JSON without overflowing the stack', () => {
    let deep: unknown = 'bottom\0';
    for (let i = 0; i < 100_000; i += 1) deep = { n: deep };
    expect(findNulCharacter({ preferences: deep }, '')).toMatch(/^preferences(\.n)+$/);
  });
});

describe('hasControlCharacters', () => {
  it.each(['a\0b', 'tab\t', 'line\n', 'esc\u001b', 'del\u007f', 'c1\u0085'])('%j has one', (text) => {
    expect(hasControlCharacters(text)).toBe(true);
  });
  it.each(['laptop key', 'Schlüssel – CI', '鍵 🔑'])('%j has none', (text) => {
    expect(hasControlCharacters(text)).toBe(false);
  });
});
