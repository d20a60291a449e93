import { badUserInput } from '@supergraph/platform';

/**
 * Small validators for resolver arguments. Each returns the normalised value or
 * throws BAD_USER_INPUT naming the field, so resolvers read top to bottom.
 */
export function requireText(
  value: string,
  field: string,
  { min = 1, max, trim = true }: { min?: number; max: number; trim?: boolean },
): string {
  const text = trim ? value.trim() : value;
  if (text.length < min) {
    throw badUserInput(min === 1 ? `${field} must not be empty` : `${field} must be at least ${min} characters`, field);
  }
  if (text.length > max) throw badUserInput(`${field} must be at most ${max} characters`, field);
  return text;
}

export function requireIntInRange(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badUserInput(`${field} must be an integer from ${min} to ${max}`, field);
  }
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function requireUuid(value: string, field: string): string {
  if (!UUID.test(value)) throw badUserInput(`${field} must be a UUID`, field);
  return value.toLowerCase();
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A JSON object (not array, not scalar) whose serialised size is at most `maxBytes`. */
export function requireJsonObject(value: unknown, field: string, maxBytes: number): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badUserInput(`${field} must be a JSON object`, field);
  }
  const size = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (size > maxBytes) throw badUserInput(`${field} must be at most ${maxBytes} bytes of JSON`, field);
  return value as Record<string, unknown>;
}
