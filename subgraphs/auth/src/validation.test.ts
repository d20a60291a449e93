import { describe, expect, it } from 'vitest';
import {
  depthOf,
  validateApiKeyScopes,
  validateEmail,
  validatePassword,
  validatePreferences,
  validateUsername,
} from './validation.ts';

describe('validation', () => {
  it('normalises email and keeps usernames as typed', () => {
    expect(validateEmail('  Bob@Example.ORG ')).toBe('bob@example.org');
    expect(validateUsername('Bob_the-1')).toBe('Bob_the-1');
  });

  it('counts password length in characters and size in bytes', () => {
    expect(validatePassword('Ünïcödé-Pass-1')).toBe('Ünïcödé-Pass-1');
    expect(() => validatePassword(`Aa1${'€'.repeat(400)}`)).toThrow(/1024 bytes/);
  });

  it('measures JSON depth', () => {
    expect(depthOf({})).toBe(1);
    expect(depthOf({ a: { b: [1] } })).toBe(3);
    expect(() => validatePreferences({ a: { b: { c: { d: { e: { f: { g: { h: {} } } } } } } } })).toThrow(/levels/);
  });

  it('de-duplicates scopes and names the ones not allowed', () => {
    expect(validateApiKeyScopes(['chat', 'chat'], ['chat'])).toEqual(['chat']);
    expect(() => validateApiKeyScopes(['admin'], ['chat'])).toThrow(/admin/);
  });
});
