import type { ServiceMap } from '@apollo/gateway';
import { buildOperationContext } from '@apollo/gateway/dist/operationContext.js';
import { operationFromDocument } from '@apollo/federation-internals';
import { prettyFormatQueryPlan, type QueryPlan } from '@apollo/query-planner';
import type {
  GatewaySchemaLoadOrUpdateCallback,
  GatewayExecutionResult,
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from '@apollo/server-gateway-interface';
import { getVariableValues, GraphQLError, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { isTelemetryEnabled } from '@supergraph/platform';
import { compileOperation, executeCompiled, type CompiledOperation, type OperationContext } from './operation.ts';
import type { Planning } from './planning.ts';
import { inSpan, inSpanAsync, operationSpanAttributes, requestSpanAttributes, SpanNames } from './telemetry.ts';

/** Everything per (document, operation name) that does not depend on the request: planned and compiled once. */
interface Prepared {
  operationContext: OperationContext;
  queryPlan: QueryPlan;
  compiled: CompiledOperation;
}

export interface PlanExecutorOptions {
  planning: Planning;
  /** The subgraphs' data sources by name; read when the gateway loads. */
  serviceMap: () => ServiceMap;
  /** `ApolloGateway`'s hook of the same name, called with the same arguments. */
  didResolveQueryPlan?: (options: {
    queryPlan: QueryPlan;
    serviceMap: ServiceMap;
    requestContext: GatewayGraphQLRequestContext;
    operationContext: OperationContext;
  }) => void;
  /** Prepared operations kept (LRU). Default 1,000. */
  cacheSize?: number;
  /** Answers `Apollo-Query-Plan-Experimental` requests with the plan, as `ApolloGateway` does outside production. */
  exposeQueryPlan?: boolean;
}

/**
 * What Apollo Server runs as its gateway: the API schema and the executor,
 * both from one {@link Planning} (one Supergraph, one QueryPlanner); no
 * `@apollo/gateway` is loaded. Planning is `@apollo/query-planner`'s, as in
 * `ApolloGateway`; what runs a plan and shapes its result is compiled once per
 * operation (`plan.ts`, `shape.ts`) instead of interpreted per request, and
 * the per-request `buildOperationContext`, `operationFromDocument` and SHA-256
 * of the plan-cache key are done once per operation too. Not carried over:
 * Apollo Studio's federated traces (`metrics.captureTraces`: the query-plan
 * trace is not built) and supergraph updates (the supergraph is static here).
 */
export function createSupergraphGateway(options: PlanExecutorOptions & { supergraphSdl: string }): GatewayInterface {
  const listeners = new Set<GatewaySchemaLoadOrUpdateCallback>();
  let loaded: Parameters<GatewaySchemaLoadOrUpdateCallback>[0] | undefined;
  return {
    onSchemaLoadOrUpdate(callback) {
      listeners.add(callback);
      if (loaded) callback(loaded);
      return () => void listeners.delete(callback);
    },
    async load() {
      loaded = { apiSchema: options.planning.apiGraphQLSchema, coreSupergraphSdl: options.supergraphSdl };
      for (const listener of listeners) listener(loaded);
      return { executor: createPlanExecutor(options, loaded.apiSchema, options.serviceMap()) };
    },
    async stop() {
      listeners.clear();
    },
  };
}

function createPlanExecutor(
  options: PlanExecutorOptions,
  schema: GraphQLSchema,
  serviceMap: ServiceMap,
): GatewayExecutor {
  const { planning } = options;
  const prepared = new LRUCache<string, Prepared>({ max: options.cacheSize ?? 1000 });

  function prepare(
    requestContext: GatewayGraphQLRequestContext,
    operationContext: OperationContext,
    traced: boolean,
  ): Prepared {
    const { document, request } = requestContext;
    const plan = (): QueryPlan => {
      const operation = operationFromDocument(planning.apiSchema, document, {
        ...(request.operationName ? { operationName: request.operationName } : {}),
      });
      return planning.planner.buildQueryPlan(operation, {
        recursiveSelectionsLimitDisabled: false,
        nonLocalSelectionsLimitDisabled: false,
      });
    };
    const queryPlan = traced
      ? inSpan(
          SpanNames.PLAN,
          requestContext.operationName ? { 'graphql.operation.name': requestContext.operationName } : {},
          plan,
        )
      : plan();
    return { operationContext, queryPlan, compiled: compileOperation(planning, schema, queryPlan, operationContext) };
  }

  async function execute(
    requestContext: GatewayGraphQLRequestContext,
    traced: boolean,
  ): Promise<GatewayExecutionResult> {
    const { request, queryHash } = requestContext;
    const key = request.operationName ? `${queryHash}\n${request.operationName}` : queryHash;
    let entry = prepared.get(key);
    const operationContext =
      entry?.operationContext ??
      buildOperationContext({
        schema,
        operationDocument: requestContext.document,
        ...(request.operationName ? { operationName: request.operationName } : {}),
      });
    const definitions = operationContext.operation.variableDefinitions;
    if (definitions && definitions.length > 0) {
      const validate = () => getVariableValues(schema, definitions, request.variables ?? {}).errors ?? [];
      const errors = traced ? inSpan(SpanNames.VALIDATE, {}, validate, (found) => found.length > 0) : validate();
      if (errors.length > 0) return { errors };
    }
    if (!entry) {
      try {
        entry = prepare(requestContext, operationContext, traced);
      } catch (error) {
        // An operation the executor cannot build (Apollo's executeQueryPlan answers such a GraphQLError as is).
        if (error instanceof GraphQLError) return { errors: [error] };
        throw error;
      }
      prepared.set(key, entry);
    }
    options.didResolveQueryPlan?.({ queryPlan: entry.queryPlan, serviceMap, requestContext, operationContext });
    const result = await executeCompiled(entry.compiled, serviceMap, requestContext, traced);
    if (options.exposeQueryPlan && entry.queryPlan.node) {
      const asked = request.http?.headers.get('Apollo-Query-Plan-Experimental');
      if (asked) {
        const format = request.http?.headers.get('Apollo-Query-Plan-Experimental-Format') ?? 'prettified';
        result.extensions = {
          __queryPlanExperimental:
            format === 'prettified'
              ? prettyFormatQueryPlan(entry.queryPlan)
              : format === 'internal'
                ? entry.queryPlan
                : true,
        };
      }
    }
    return result;
  }

  return (requestContext) => {
    if (!isTelemetryEnabled()) return execute(requestContext, false);
    return inSpanAsync(
      SpanNames.REQUEST,
      { ...requestSpanAttributes(requestContext), ...operationSpanAttributes(requestContext.operation) },
      () => execute(requestContext, true),
      (result) => result.errors !== undefined,
    );
  };
}
