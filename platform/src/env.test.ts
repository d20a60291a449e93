import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { EnvError, flag, isWeakSecret, parseEnv, port } from './env.ts';

describe('parseEnv', () => {
  const schema = z.object({ PORT: port(4000), SECRET: z.string().min(8), VERBOSE: flag() });

  it('applies defaults and coerces', () => {
    expect(parseEnv(schema, { SECRET: '12345678' })).toEqual({ PORT: 4000, SECRET: '12345678', VERBOSE: false });
    expect(parseEnv(schema, { SECRET: '12345678', PORT: '80', VERBOSE: 'yes' }).VERBOSE).toBe(true);
  });

  it('lists every problem at once', () => {
    expect(() => parseEnv(schema, { PORT: 'x' })).toThrow(EnvError);
    try {
      parseEnv(schema, { PORT: 'x' });
    } catch (error) {
      expect((error as Error).message).toContain('PORT');
      expect((error as Error).message).toContain('SECRET');
    }
  });
});

describe('isWeakSecret', () => {
  it('rejects missing, placeholder, repeated and short secrets', () => {
    expect(isWeakSecret(undefined)).toBe(true);
    expect(isWeakSecret('changeme')).toBe(true);
    expect(isWeakSecret('a'.repeat(64))).toBe(true);
    expect(isWeakSecret('short-but-random')).toBe(true);
    expect(isWeakSecret('k3J9-vQ2xPz8LmN4rT7wY1bC6dF0hG5s')).toBe(false);
  });
});
