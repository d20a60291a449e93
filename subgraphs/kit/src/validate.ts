import { defaultFieldResolver, isObjectType, type GraphQLSchema } from 'graphql';
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

/**
 * Where a value holds a NUL character: the path of the first string (or JSON
 * object key) with U+0000, e.g. `input.usernameOrEmail` or
 * `preferences.theme[2]`, else undefined. PostgreSQL stores no NUL in `text`
 * or `jsonb`, so such input can only fail later, as an internal error.
 */
export function findNulCharacter(value: unknown, path: string): string | undefined {
  // Iterative: a deeply nested JSON argument must not overflow the stack.
  const pending: Array<[unknown, string]> = [[value, path]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, itemPath] = next;
    if (typeof item === 'string') {
      if (item.includes('\0')) return itemPath;
    } else if (Array.isArray(item)) {
      for (let index = item.length - 1; index >= 0; index -= 1) pending.push([item[index], `${itemPath}[${index}]`]);
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item);
      for (const [key] of entries) if (key.includes('\0')) return itemPath || 'arguments';
      for (const [key, child] of entries.reverse()) pending.push([child, itemPath ? `${itemPath}.${key}` : key]);
    }
  }
  return undefined;
}

/**
 * Makes every field with arguments refuse, with BAD_USER_INPUT naming the
 * argument, a NUL character anywhere in its arguments (strings, IDs, input
 * objects, lists, JSON scalars and their keys) before its resolver runs.
 * `startSubgraph` applies it to every subgraph, so no resolver has to
 * remember; the finding it fixes: NUL in a login, an API key name or
 * preferences reached SQL and answered INTERNAL_SERVER_ERROR.
 */
export function rejectNulArguments(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args: Record<string, unknown>, context, info) => {
        const path = findNulCharacter(args, '');
        if (path) throw badUserInput(`${path} must not contain NUL characters`, path);
        return resolve(source, args, context, info);
      };
      // Subscription fields get their arguments in `subscribe` first (the source stream is opened with them).
      const subscribe = field.subscribe;
      if (subscribe) {
        field.subscribe = (source, args: Record<string, unknown>, context, info) => {
          const path = findNulCharacter(args, '');
          if (path) throw badUserInput(`${path} must not contain NUL characters`, path);
          return subscribe(source, args, context, info);
        };
      }
    }
  }
  return schema;
}

/** Whether `text` holds a control character (C0, DEL or C1): none belongs in a one-line name or label. */
export function hasControlCharacters(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}
