import type { GraphQLDataSource, ServiceMap } from '@apollo/gateway';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import { applyRewrites } from '@apollo/gateway/dist/dataRewrites.js';
import { assert, type Operation } from '@apollo/federation-internals';
import { evaluateCondition, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { GraphQLSchema } from 'graphql';
import { downstreamServiceError, lazyErrorPath } from './fetch-errors.ts';
import { compileRequires, deepMerge, flattenResultsAtPath, type PlanPath } from './results.ts';
import { isPlainKey } from './shape-compile.ts';
import { inSpanAsync, SpanNames } from './telemetry.ts';

export interface Cursor {
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
