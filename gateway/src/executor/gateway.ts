import { buildOperationContext, type ServiceMap } from '@apollo/gateway';
import {
  OpenTelemetrySpanNames,
  operationContextSpanAttributes,
  requestContextSpanAttributes,
  tracer,
} from '@apollo/gateway/dist/utilities/opentelemetry.js';
import { operationFromDocument } from '@apollo/federation-internals';
import { prettyFormatQueryPlan, type QueryPlan } from '@apollo/query-planner';
import type {
  GatewayExecutionResult,
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from '@apollo/server-gateway-interface';
import { getVariableValues, GraphQLError, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { isTelemetryEnabled } from '@supergraph/platform';
import { compileOperation, executeCompiled, failed, inSpan, type CompiledOperation } from './operation.ts';
import type { Planning } from './planning.ts';

type OperationContext = ReturnType<typeof buildOperationContext>;

/** Everything per (document, operation name) that does not depend on the request: planned and compiled once. */
interface Prepared {
  operationContext: OperationContext;
  queryPlan: QueryPlan;
  compiled: CompiledOperation;
}

export interface PlanExecutorOptions {
  planning: Planning;
  /** The subgraphs' data sources by name; read once the inner gateway has loaded (it builds them). */
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
 * Apollo Server's gateway, with `@apollo/gateway`'s executor replaced by ours:
 * the inner `ApolloGateway` still loads the supergraph, builds the API schema
 * Apollo Server validates against and the data sources; planning is the same
 * `QueryPlanner`; what runs a plan and shapes its result is compiled once per
 * operation (`plan.ts`, `shape.ts`) instead of interpreted per request, and
 * the per-request `buildOperationContext`, `operationFromDocument` and SHA-256
 * of the plan-cache key are done once per operation too. Requests that ask
 * Apollo for federated traces (`metrics.captureTraces`, Apollo Studio usage
 * reporting) go to Apollo's own executor, which builds them.
 */
export function withPlanExecutor(inner: GatewayInterface, options: PlanExecutorOptions): GatewayInterface {
  return {
    onSchemaLoadOrUpdate: (callback) => inner.onSchemaLoadOrUpdate(callback),
    stop: () => inner.stop(),
    async load(loadOptions) {
      let schema: GraphQLSchema | undefined;
      const unsubscribe = inner.onSchemaLoadOrUpdate(({ apiSchema }) => {
        schema = apiSchema;
      });
      const { executor: fallback } = await inner.load(loadOptions);
      unsubscribe();
      if (!schema || !fallback) throw new Error('The gateway loaded no schema');
      const ours = createPlanExecutor(options, schema, options.serviceMap());
      return {
        executor: (requestContext) =>
          (requestContext.metrics as { captureTraces?: boolean } | undefined)?.captureTraces
            ? fallback(requestContext)
            : ours(requestContext),
      };
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
          OpenTelemetrySpanNames.PLAN,
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
      const errors = traced ? inSpan(OpenTelemetrySpanNames.VALIDATE, {}, validate) : validate();
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
    return tracer.startActiveSpan(
      OpenTelemetrySpanNames.REQUEST,
      { attributes: requestContextSpanAttributes(requestContext, undefined) },
      async (span) => {
        try {
          const entry = prepared.get(
            requestContext.request.operationName
              ? `${requestContext.queryHash}\n${requestContext.request.operationName}`
              : requestContext.queryHash,
          );
          if (entry) span.setAttributes(operationContextSpanAttributes(entry.operationContext));
          const result = await execute(requestContext, true);
          if (result.errors) failed(span, result.errors);
          return result;
        } catch (error) {
          failed(span, [error as Error]);
          throw error;
        } finally {
          span.end();
        }
      },
    );
  };
}
