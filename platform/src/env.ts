import { z } from 'zod';
import type { Tier } from './identity.ts';

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
  const result = checkEnv(schema, source);
  if (result.problems.length > 0) {
    throw new EnvError(`Invalid configuration:\n${result.problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
  return Object.freeze(result.data as z.infer<T>);
}

/**
 * Like {@link parseEnv}, but returns the problems (`NAME: message`) instead of
 * throwing, for callers that add their own before reporting them together.
 */
export function checkEnv<T extends z.ZodType>(
  schema: T,
  source: NodeJS.ProcessEnv = process.env,
): { data: z.infer<T>; problems: string[] } | { data?: undefined; problems: string[] } {
  const result = schema.safeParse(source);
  if (result.success) return { data: result.data, problems: [] };
  return { problems: result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`) };
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

/** `storage-units` → `STORAGE_UNITS`: the prefix of a subgraph's own variables (`<NAME>_PORT`, `<NAME>_URL`, …). */
export function envPrefix(name: string): string {
  return name.toUpperCase().replaceAll('-', '_');
}

/**
 * A per-tier list from the environment, `free=60,pro=600`: each entry a known
 * tier and a value `isValid` accepts; a RangeError names the first bad entry
 * (`what` and `example` make the message).
 */
export function parseTierValues(
  text: string | undefined,
  { what, example, isValid }: { what: string; example: string; isValid: (value: number) => boolean },
): Partial<Record<Tier, number>> {
  const result: Partial<Record<Tier, number>> = {};
  for (const part of (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const match = /^(free|pro|enterprise)\s*=\s*(\S+)$/.exec(part);
    const value = Number(match?.[2]);
    if (!match || !isValid(value)) throw new RangeError(`invalid ${what} "${part}" (use e.g. ${example})`);
    result[match[1] as Tier] = value;
  }
  return result;
}
