import { z } from 'zod';

/**
 * Parses environment variables with a zod schema, reporting every problem at
 * once. Services call it once at start-up (their `src/env.ts`) and exit on
 * failure; nothing else reads `process.env`.
 *
 * @example
 * export const env = parseEnv(z.object({ PORT: port(4001) }));
 */
export function parseEnv<T extends z.ZodType>(
  schema: T,
  source: NodeJS.ProcessEnv = process.env,
): Readonly<z.infer<T>> {
  const result = schema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  - ${issue.path.join('.') || '(env)'}: ${issue.message}`);
    throw new EnvError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  return Object.freeze(result.data);
}

export class EnvError extends Error {
  override name = 'EnvError';
}

export const nodeEnv = z.enum(['development', 'production', 'test']).default('development');

export function port(defaultPort: number) {
  return z.coerce.number().int().min(0).max(65_535).default(defaultPort);
}

/** `1`/`true`/`yes` → true; unset → `defaultValue`. */
export function flag(defaultValue = false) {
  return z
    .string()
    .optional()
    .transform((value) => (value === undefined || value === '' ? defaultValue : /^(1|true|yes|on)$/i.test(value)));
}

export const optionalUrl = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(z.url().optional());

/** Known placeholder secrets that production must never run with. */
const WEAK_SECRETS = new Set(['changeme', 'change-me', 'secret', 'password', 'dev', 'development', 'test', 'default']);

/** True when a secret is missing, a placeholder, or shorter than `minLength`. */
export function isWeakSecret(value: string | undefined, minLength = 32): boolean {
  if (!value) return true;
  if (WEAK_SECRETS.has(value.toLowerCase())) return true;
  if (/^(.)\1*$/.test(value)) return true;
  return value.length < minLength;
}
