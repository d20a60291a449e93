import type { GraphQLDataSource, ServiceMap } from '@apollo/gateway';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import { applyRewrites, isObjectOfType } from '@apollo/gateway/dist/dataRewrites.js';
import { assert, ERRORS, errorCodeDef, type Operation } from '@apollo/federation-internals';
import {
  evaluateCondition,
  type FetchNode,
  type PlanNode,
  type QueryPlan,
  type QueryPlanSelectionNode,
} from '@apollo/query-planner';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { isPlainKey } from './shape.ts';
import { inSpanAsync, SpanNames } from './telemetry.ts';

/** A response path as the plan writes it: field names, `@` for "every element of this list". */
type PlanPath = readonly (string | number)[];

interface Cursor {
  path: PlanPath;
  data: unknown;
  fullResult: Record<string, unknown>;
}

/** What one request's run of a compiled plan carries. */
export interface PlanRun {
  serviceMap: ServiceMap;
  requestContext: GatewayGraphQLRequestContext;
  errors: Error[];
  /** Spans only when something records them (tracing on). */
  traced: boolean;
}

type NodeRunner = (run: PlanRun, cursor: Cursor) => Promise<void>;

/** Extracts an entity's representation for a fetch's `requires`; null when a required field is missing. */
type Extractor = (source: unknown) => Record<string, unknown> | null;

/**
 * `@apollo/gateway`'s plan execution (`executeQueryPlan.js`), compiled once
 * per cached plan: each node becomes a closure, a fetch's `requires` becomes
 * an extractor over the entity, and paths are walked with index loops instead
 * of recursion over sliced arrays. Merging, error paths, rewrites and the
 * error wording are Apollo's (its `dataRewrites` is used as is).
 */
export function compilePlan(
  queryPlan: QueryPlan,
  operation: Operation,
  supergraphSchema: GraphQLSchema,
): NodeRunner | undefined {
  const node = queryPlan.node;
  if (!node) return undefined;
  if (node.kind === 'Subscription') throw new Error('Execution of subscriptions not supported by gateway');
  return compileNode(node);

  function compileNode(planNode: PlanNode): NodeRunner {
    switch (planNode.kind) {
      case 'Sequence': {
        const children = planNode.nodes.map(compileNode);
        return async (run, cursor) => {
          for (const child of children) await child(run, cursor);
        };
      }
      case 'Parallel': {
        const children = planNode.nodes.map(compileNode);
        return async (run, cursor) => {
          await Promise.all(children.map((child) => child(run, cursor)));
        };
      }
      case 'Flatten': {
        const child = compileNode(planNode.node);
        const path = planNode.path;
        return (run, cursor) => {
          const data = flattenResultsAtPath(cursor.data, path, 0);
          if (!data) return Promise.resolve();
          return child(run, { path: cursor.path.concat(path), data, fullResult: cursor.fullResult });
        };
      }
      case 'Fetch': {
        const fetch = compileFetch(planNode);
        // A failed fetch is an error of the response, never of the plan (fetch is async: it cannot throw here).
        return (run, cursor) =>
          fetch(run, cursor).then(undefined, (error: unknown) => {
            run.errors.push(error as Error);
          });
      }
      case 'Condition': {
        const ifClause = planNode.ifClause ? compileNode(planNode.ifClause) : undefined;
        const elseClause = planNode.elseClause ? compileNode(planNode.elseClause) : undefined;
        return async (run, cursor) => {
          const condition = evaluateCondition(
            planNode,
            operation.variableDefinitions,
            run.requestContext.request.variables,
          );
          const picked = condition ? ifClause : elseClause;
          if (picked) await picked(run, cursor);
        };
      }
      case 'Defer':
        return () => {
          assert(false, `@defer support is not available in the gateway`);
          return Promise.resolve();
        };
    }
  }

  function compileFetch(fetch: FetchNode): NodeRunner {
    const extract = fetch.requires ? compileRequires(fetch.requires, supergraphSchema) : undefined;
    const variableUsages = fetch.variableUsages ?? [];
    const plainVariables = variableUsages.every(isPlainKey);
    const fetchRun = async (run: PlanRun, cursor: Cursor): Promise<void> => {
      const service = run.serviceMap[fetch.serviceName];
      if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
      const entities: Record<string, unknown>[] = [];
      if (Array.isArray(cursor.data)) {
        for (const entity of cursor.data) if (entity !== null && entity !== undefined) entities.push(entity);
      } else entities.push(cursor.data as Record<string, unknown>);
      if (entities.length < 1) return;
      const variables = (plainVariables ? {} : Object.create(null)) as Record<string, unknown>;
      const provided = run.requestContext.request.variables;
      for (const name of variableUsages) {
        if (provided && Object.hasOwn(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
      }
      if (!extract) {
        const received = await send(run, service, cursor, variables);
        if (received) applyRewrites(supergraphSchema, fetch.outputRewrites, received);
        for (const entity of entities) deepMerge(entity, received);
        return;
      }
      const representations: Record<string, unknown>[] = [];
      const representationToEntity: number[] = [];
      for (let index = 0; index < entities.length; index++) {
        const representation = extract(entities[index]);
        if (representation && representation['__typename']) {
          applyRewrites(supergraphSchema, fetch.inputRewrites, representation);
          representations.push(representation);
          representationToEntity.push(index);
        }
      }
      if (representations.length < 1) return;
      if ('representations' in variables) throw new Error(`Variables cannot contain key "representations"`);
      const received = await send(run, service, cursor, { ...variables, representations });
      if (!received) return;
      const receivedEntities = received['_entities'];
      if (!(receivedEntities && Array.isArray(receivedEntities)))
        throw new Error(`Expected "data._entities" in response to be an array`);
      if (receivedEntities.length !== representations.length)
        throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
      for (let index = 0; index < receivedEntities.length; index++) {
        const receivedEntity = receivedEntities[index] as Record<string, unknown> | null;
        const existingEntity = entities[representationToEntity[index]!]!;
        if (receivedEntity && !receivedEntity['__typename'])
          receivedEntity['__typename'] = existingEntity['__typename'];
        if (receivedEntity) applyRewrites(supergraphSchema, fetch.outputRewrites, receivedEntity);
        deepMerge(existingEntity, receivedEntity);
      }
    };
    return async (run, cursor) => {
      if (!run.traced) return fetchRun(run, cursor);
      return inSpanAsync(SpanNames.FETCH, { service: fetch.serviceName }, () => fetchRun(run, cursor));
    };

    async function send(
      run: PlanRun,
      service: GraphQLDataSource,
      cursor: Cursor,
      variables: Record<string, unknown>,
    ): Promise<Record<string, unknown> | null | undefined> {
      const response = await service.process({
        kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
        request: { query: fetch.operation, variables, operationName: fetch.operationName },
        incomingRequestContext: run.requestContext,
        context: run.requestContext.context,
        ...(fetch.operationDocumentNode ? { document: fetch.operationDocumentNode } : {}),
        pathInIncomingRequest: cursor.path as (string | number)[],
      });
      if (response.errors) {
        const errorPath = lazyErrorPath(fetch, cursor);
        run.errors.push(...response.errors.map((error) => downstreamServiceError(error, fetch.serviceName, errorPath)));
        if (!response.extensions?.['ftv1']) {
          const errorPaths = response.errors.map((error) => ({ subgraph: fetch.serviceName, path: error.path }));
          const metrics = run.requestContext.metrics as { nonFtv1ErrorPaths?: unknown[] } | undefined;
          if (metrics) {
            if (metrics.nonFtv1ErrorPaths) metrics.nonFtv1ErrorPaths.push(...errorPaths);
            else metrics.nonFtv1ErrorPaths = errorPaths;
          }
        }
      }
      return response.data;
    }
  }
}

/** Apollo's `executeSelectionSet` over a fetch's `requires`, as one closure per selection. */
function compileRequires(selections: readonly QueryPlanSelectionNode[], schema: GraphQLSchema): Extractor {
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

/** `isObjectOfType` depends on the entity's __typename alone (a missing one never matches): memoised per name. */
function typeTest(schema: GraphQLSchema, typeCondition: string): (source: Record<string, unknown>) => boolean {
  const matches = new Map<string, boolean>();
  return (source) => {
    const typename = source['__typename'];
    if (typeof typename !== 'string') return isObjectOfType(schema, source, typeCondition);
    let match = matches.get(typename);
    if (match === undefined) {
      match = isObjectOfType(schema, source, typeCondition);
      matches.set(typename, match);
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
function flattenResultsAtPath(value: unknown, path: PlanPath, at: number): unknown {
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

/** Apollo's `makeLazyErrorPathGenerator`: an entity error's `_entities` index becomes its place in the response. */
function lazyErrorPath(
  fetch: FetchNode,
  cursor: Cursor,
): (errorPath: GraphQLFormattedError['path']) => (string | number)[] | undefined {
  let hydratedPaths: (string | number)[][] | undefined;
  return (errorPath) => {
    if (fetch.requires && typeof errorPath?.[1] === 'number') {
      if (!hydratedPaths) {
        hydratedPaths = [];
        generateHydratedPaths([], cursor.path, 0, cursor.fullResult, hydratedPaths);
      }
      return [...(hydratedPaths[errorPath[1]] ?? []), ...errorPath.slice(2)];
    }
    return errorPath ? [...cursor.path, ...errorPath] : undefined;
  };
}

function generateHydratedPaths(
  parent: (string | number)[],
  path: PlanPath,
  at: number,
  data: unknown,
  result: (string | number)[][],
): void {
  if (data === null || data === undefined) return;
  const head = path[at];
  if (head === undefined) result.push(parent.slice());
  else if (head === '@') {
    assert(Array.isArray(data), 'expected array when encountering `@`');
    for (let index = 0; index < data.length; index++) {
      parent.push(index);
      generateHydratedPaths(parent, path, at + 1, data[index], result);
      parent.pop();
    }
  } else if (typeof head === 'string') {
    if (Array.isArray(data)) {
      for (let index = 0; index < data.length; index++) {
        parent.push(index);
        generateHydratedPaths(parent, path, at, data[index], result);
        parent.pop();
      }
    } else if (Object.hasOwn(data as object, head)) {
      parent.push(head);
      generateHydratedPaths(parent, path, at + 1, (data as Record<string, unknown>)[head], result);
      parent.pop();
    }
  } else assert(false, `unknown path part "${String(head)}"`);
}

/** Apollo's `downstreamServiceError`. */
function downstreamServiceError(
  originalError: GraphQLFormattedError,
  serviceName: string,
  errorPath: (path: GraphQLFormattedError['path']) => (string | number)[] | undefined,
): GraphQLError {
  const message = originalError.message || `Error while fetching subquery from service "${serviceName}"`;
  const { extensions } = originalError;
  const errorOptions = {
    originalError: originalError as Error,
    path: errorPath(originalError.path),
    extensions: { ...extensions, serviceName },
  };
  const codeDef = errorCodeDef(originalError as GraphQLError);
  if (!codeDef && extensions?.['code']) return new GraphQLError(message, errorOptions);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, errorOptions);
}
