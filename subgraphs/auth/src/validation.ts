import { hasControlCharacters, requireJsonObject } from '@supergraph/kit';
import { badUserInput } from '@supergraph/platform';

/** Hard cap on password size, checked before hashing so nobody can make argon2 chew megabytes. */
export const MAX_PASSWORD_BYTES = 1024;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PREFERENCES_BYTES = 16 * 1024;
export const MAX_PREFERENCES_DEPTH = 8;
export const MAX_EMAIL_LENGTH = 254;

const USERNAME = /^[A-Za-z0-9_-]{3,32}$/;
// The WHATWG "valid e-mail address" grammar, plus a dot in the domain (no intranet hosts).
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** 3-32 characters of `[A-Za-z0-9_-]`; kept as typed, unique case-insensitively. */
export function validateUsername(value: string, field = 'input.username'): string {
  if (!USERNAME.test(value)) {
    throw badUserInput('username must be 3-32 characters of letters, digits, "_" or "-"', field);
  }
  return value;
}

/** A syntactically valid address of at most 254 characters, returned lower-cased. */
export function validateEmail(value: string, field = 'input.email'): string {
  const email = value.trim().toLowerCase();
  if (email.length > MAX_EMAIL_LENGTH)
    throw badUserInput(`email must be at most ${MAX_EMAIL_LENGTH} characters`, field);
  if (!EMAIL.test(email)) throw badUserInput('email is not a valid address', field);
  return email;
}

/** At least 12 characters with an upper-case letter, a lower-case letter and a digit; at most 1024 bytes. */
export function validatePassword(value: string, field = 'input.password'): string {
  assertPasswordSize(value, field);
  if ([...value].length < MIN_PASSWORD_LENGTH) {
    throw badUserInput(`password must be at least ${MIN_PASSWORD_LENGTH} characters`, field);
  }
  if (!/\p{Lu}/u.test(value) || !/\p{Ll}/u.test(value) || !/\p{Nd}/u.test(value)) {
    throw badUserInput('password must contain an upper-case letter, a lower-case letter and a digit', field);
  }
  return value;
}

/** Rejects passwords over {@link MAX_PASSWORD_BYTES} UTF-8 bytes. */
export function assertPasswordSize(value: string, field: string): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_PASSWORD_BYTES) {
    throw badUserInput(`password must be at most ${MAX_PASSWORD_BYTES} bytes`, field);
  }
}

/** A JSON object of at most 16 KiB serialised and at most {@link MAX_PREFERENCES_DEPTH} levels deep. */
export function validatePreferences(value: unknown, field = 'preferences'): Record<string, unknown> {
  const preferences = requireJsonObject(value, field, MAX_PREFERENCES_BYTES);
  if (depthOf(preferences) > MAX_PREFERENCES_DEPTH) {
    throw badUserInput(`${field} must be nested at most ${MAX_PREFERENCES_DEPTH} levels deep`, field);
  }
  return preferences;
}

/** Nesting depth of a JSON value: scalars 0, `{}` 1, `{a: {}}` 2. Stops early past the limit. */
export function depthOf(value: unknown, limit = MAX_PREFERENCES_DEPTH + 1): number {
  if (value === null || typeof value !== 'object') return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, depthOf(child, limit - 1));
    if (deepest >= limit) break;
  }
  return 1 + deepest;
}

/** 1-64 characters after trimming, none of them a control character. */
export function validateApiKeyName(value: string, field = 'name'): string {
  const name = value.trim();
  if (name.length < 1 || name.length > 64) throw badUserInput('name must be 1-64 characters', field);
  if (hasControlCharacters(name)) throw badUserInput('name must not contain control characters', field);
  return name;
}

/** A non-empty subset of `allowed`, de-duplicated, in the caller's order. */
export function validateApiKeyScopes(
  requested: readonly string[],
  allowed: readonly string[],
  field = 'scopes',
): string[] {
  const scopes = [...new Set(requested)];
  if (scopes.length === 0) throw badUserInput('scopes must not be empty', field);
  const outside = scopes.filter((scope) => !allowed.includes(scope));
  if (outside.length > 0) {
    throw badUserInput(
      `scopes must be a subset of your own scopes; not allowed: ${outside.slice(0, 5).join(', ')}`,
      field,
    );
  }
  return scopes;
}

/** A provider's name as stored and as `/internal/grants` takes it: `openai`, `anthropic`, `azure-openai`. */
export const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const MIN_PROVIDER_KEY_LENGTH = 8;
export const MAX_PROVIDER_KEY_LENGTH = 512;
// Visible ASCII: provider keys are tokens, and anything else (whitespace, controls) is a paste accident.
const PROVIDER_KEY = /^[\x21-\x7e]+$/;

export function validateProviderName(value: string, field = 'provider'): string {
  if (!PROVIDER_NAME.test(value)) {
    throw badUserInput('provider must be 1-32 of a-z, 0-9 and "-", starting with a letter', field);
  }
  return value;
}

/** 8-512 visible ASCII characters (no whitespace). The message never repeats the key. */
export function validateProviderKey(value: string, field = 'key'): string {
  if (value.length < MIN_PROVIDER_KEY_LENGTH || value.length > MAX_PROVIDER_KEY_LENGTH) {
    throw badUserInput(`key must be ${MIN_PROVIDER_KEY_LENGTH}-${MAX_PROVIDER_KEY_LENGTH} characters`, field);
  }
  if (!PROVIDER_KEY.test(value)) throw badUserInput('key must be printable characters without whitespace', field);
  return value;
}
