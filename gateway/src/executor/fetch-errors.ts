import { assert, ERRORS, errorCodeDef } from '@apollo/federation-internals';
import type { FetchNode } from '@apollo/query-planner';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Cursor } from './plan.ts';
import type { PlanPath } from './results.ts';

/** A subgraph's errors as the response reports them: at the client's paths, with Apollo's codes. */

/** Apollo's `makeLazyErrorPathGenerator`: an entity error's `_entities` index becomes its place in the response. */
export function lazyErrorPath(
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
export function downstreamServiceError(
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
