import { isObjectOfType } from '@apollo/gateway/dist/dataRewrites.js';
import { assert } from '@apollo/federation-internals';
import type { QueryPlanSelectionNode } from '@apollo/query-planner';
import type { GraphQLSchema } from 'graphql';
import { isPlainKey } from './shape-compile.ts';

/**
 * What plan execution does to the merged subgraph data, as `@apollo/gateway`
 * does it: read the representations a fetch `requires`, find the entities at
 * a plan path, merge an answer into them.
 */

/** A response path as the plan writes it: field names, `@` for "every element of this list". */
export type PlanPath = readonly (string | number)[];

/** Extracts an entity's representation for a fetch's `requires`; null when a required field is missing. */
export type Extractor = (source: unknown) => Record<string, unknown> | null;

/** Apollo's `executeSelectionSet` over a fetch's `requires`, as one closure per selection. */
export function compileRequires(selections: readonly QueryPlanSelectionNode[], schema: GraphQLSchema): Extractor {
  type Step = (source: Record<string, unknown>, result: Record<string, unknown>) => boolean;
  // Object literals (fast to fill and to serialise) unless a name would collide with Object.prototype's.
  const plain = selections.every(
    (selection) => selection.kind !== 'Field' || isPlainKey(selection.alias ?? selection.name),
  );
  const steps: Step[] = selections.map((selection): Step => {
    if (selection.kind === 'Field') {
      const responseName = selection.alias ?? selection.name;
      const nested = selection.selections ? compileRequires(selection.selections, schema) : undefined;
      return (source, result) => {
        if (!Object.hasOwn(source, responseName) || source[responseName] === undefined) return false;
        const value = source[responseName];
        if (Array.isArray(value)) result[responseName] = nested ? value.map((element) => nested(element)) : value;
        else result[responseName] = nested ? nested(value) : value;
        return true;
      };
    }
    const typeCondition = selection.typeCondition;
    if (!typeCondition) return () => true;
    const nested = compileRequires(selection.selections, schema);
    const matches = typeTest(schema, typeCondition);
    return (source, result) => {
      if (matches(source)) deepMerge(result, nested(source));
      return true;
    };
  });
  // The usual `requires`: one `... on Entity { key fields }`. Merging its result into an empty object would
  // copy it key for key; it is that object already.
  const only = selections.length === 1 ? selections[0] : undefined;
  if (only?.kind === 'InlineFragment' && only.typeCondition) {
    const nested = compileRequires(only.selections, schema);
    const matches = typeTest(schema, only.typeCondition);
    return (source) => {
      if (source === null) return null;
      const record = source as Record<string, unknown>;
      return (
        (matches(record) ? nested(record) : null) ?? (plain ? {} : (Object.create(null) as Record<string, unknown>))
      );
    };
  }
  return (source) => {
    if (source === null) return null;
    const result = (plain ? {} : Object.create(null)) as Record<string, unknown>;
    for (const step of steps) if (!step(source as Record<string, unknown>, result)) return null;
    return result;
  };
}

/**
 * `isObjectOfType` depends on the entity's __typename alone (a missing one never matches): memoised per name,
 * for names the schema has only, so a subgraph's stray __typename does not grow the memo.
 */
function typeTest(schema: GraphQLSchema, typeCondition: string): (source: Record<string, unknown>) => boolean {
  const matches = new Map<string, boolean>();
  return (source) => {
    const typename = source['__typename'];
    if (typeof typename !== 'string') return isObjectOfType(schema, source, typeCondition);
    let match = matches.get(typename);
    if (match === undefined) {
      match = isObjectOfType(schema, source, typeCondition);
      if (schema.getType(typename)) matches.set(typename, match);
    }
    return match;
  };
}

/**
 * Apollo's `flattenResultsAtPath`: the values at `path`, every `@` fanning out
 * over a list (and an array reached under a `@` spread into the result, as
 * `flatMap` does). Walks the path by index into one result array instead of
 * building one array per level.
 */
export function flattenResultsAtPath(value: unknown, path: PlanPath, at: number): unknown {
  for (; at < path.length; at++) {
    if (value === undefined || value === null) return value;
    const current = path[at];
    if (current === '@') {
      if (!Array.isArray(value)) throw new TypeError('value.flatMap is not a function');
      const flattened: unknown[] = [];
      for (const element of value) collectAtPath(element, path, at + 1, flattened);
      return flattened;
    }
    value = field(value, current);
  }
  return value;
}

/** Under a `@`: appends what `flattenResultsAtPath(value, path, at)` would give, spreading an array one level. */
function collectAtPath(value: unknown, path: PlanPath, at: number, into: unknown[]): void {
  for (; at < path.length; at++) {
    if (value === undefined || value === null) break;
    const current = path[at];
    if (current === '@') {
      if (!Array.isArray(value)) throw new TypeError('value.flatMap is not a function');
      for (const element of value) collectAtPath(element, path, at + 1, into);
      return;
    }
    value = field(value, current);
  }
  if (Array.isArray(value)) for (const item of value) into.push(item);
  else into.push(value);
}

function field(value: unknown, current: string | number | undefined): unknown {
  assert(typeof current === 'string', () => `Unexpected ${typeof current} found in path`);
  assert(!Array.isArray(value), () => `Unexpected array in result for path element ${current}`);
  const object = value as Record<string, unknown>;
  return Object.hasOwn(object, current) ? object[current] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== undefined && value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Apollo's `deepMerge` (own keys only, arrays of equal length merged element-wise). */
export function deepMerge(target: Record<string, unknown>, source: unknown): Record<string, unknown> {
  if (source === undefined || source === null) return target;
  const from = source as Record<string, unknown>;
  for (const key of Object.keys(from)) {
    const value = from[key];
    if (value === undefined) continue;
    let existing = target[key];
    if (existing === undefined) {
      // Nothing there yet (the usual case): only a name the prototype has needs an own slot first.
      if (key in target && !Object.hasOwn(target, key))
        Object.defineProperty(target, key, { configurable: true, enumerable: true, value: undefined, writable: true });
      target[key] = value;
      continue;
    }
    if (!Object.hasOwn(target, key)) {
      Object.defineProperty(target, key, { configurable: true, enumerable: true, value: undefined, writable: true });
      existing = undefined;
    }
    if (existing && isObject(value)) deepMerge(existing as Record<string, unknown>, value);
    else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let index = 0; index < value.length; index++) {
        if (isObject(existing[index]) && isObject(value[index]))
          deepMerge(existing[index] as Record<string, unknown>, value[index]);
        else existing[index] = value[index];
      }
    } else target[key] = value;
  }
  return target;
}
