import type { buildOperationContext, ServiceMap } from '@apollo/gateway';
import { operationFromDocument } from '@apollo/federation-internals';
import type { QueryPlan } from '@apollo/query-planner';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, Kind, type DocumentNode, type GraphQLSchema } from 'graphql';
import { compilePlan, type PlanRun } from './plan.ts';
import type { Planning } from './planning.ts';
import { compileShape, type CompiledShape } from './shape.ts';
import { inSpan, inSpanAsync, SpanNames } from './telemetry.ts';

/** What `@apollo/gateway`'s `buildOperationContext` answers: the operation and its fragments. */
export type OperationContext = ReturnType<typeof buildOperationContext>;

/** A query plan and the operation it answers, compiled: what runs per request. */
export interface CompiledOperation {
  run: ReturnType<typeof compilePlan>;
  shape: CompiledShape;
}

/**
 * Compiles `queryPlan` for the operation of `operationContext` (the plan's
 * nodes and the operation's result shaping). Throws what Apollo's
 * `executeQueryPlan` would answer as an error (an operation it cannot build).
 */
export function compileOperation(
  planning: Planning,
  /** The API schema Apollo Server validates against (introspection answers from it). */
  schema: GraphQLSchema,
  queryPlan: QueryPlan,
  operationContext: OperationContext,
): CompiledOperation {
  // As Apollo's executeQueryPlan builds it: the operation and its fragments, not validated again.
  const operation = operationFromDocument(
    planning.apiSchema,
    {
      kind: Kind.DOCUMENT,
      definitions: [operationContext.operation, ...Object.values(operationContext.fragments)],
    } as DocumentNode,
    { validate: false },
  );
  return {
    run: compilePlan(queryPlan, operation, planning.supergraphSchema),
    shape: compileShape(operation, schema, operationContext.operation.variableDefinitions),
  };
}

/**
 * Runs a compiled operation: the plan's fetches through `serviceMap`, then the
 * result shaped. Answers exactly what `executeQueryPlan` answers, with its
 * `gateway.execute` / `gateway.fetch` / `gateway.postprocessing` spans when `traced`.
 */
export async function executeCompiled(
  compiled: CompiledOperation,
  serviceMap: ServiceMap,
  requestContext: GatewayGraphQLRequestContext,
  traced: boolean,
): Promise<GatewayExecutionResult> {
  if (traced) return inSpanAsync(SpanNames.EXECUTE, {}, () => run(compiled, serviceMap, requestContext, true));
  return run(compiled, serviceMap, requestContext, false);
}

async function run(
  compiled: CompiledOperation,
  serviceMap: ServiceMap,
  requestContext: GatewayGraphQLRequestContext,
  traced: boolean,
): Promise<GatewayExecutionResult> {
  const errors: Error[] = [];
  // The merge target; deepMerge gives a key Object.prototype also has its own slot, so a literal is safe.
  const data: Record<string, unknown> = {};
  if (compiled.run) {
    const planRun: PlanRun = { serviceMap, requestContext, errors, traced };
    await compiled.run(planRun, { path: [], data, fullResult: data });
  }
  const shape = (): GatewayExecutionResult => {
    try {
      const shaped = compiled.shape.shape(data, requestContext.request.variables);
      if (errors.length === 0 && shaped.errors.length > 0)
        return { extensions: { valueCompletion: shaped.errors }, data: shaped.data };
      return errors.length === 0 ? { data: shaped.data } : { errors: errors as GraphQLError[], data: shaped.data };
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [error] };
      if (error instanceof Error) return { errors: [new GraphQLError(error.message, { originalError: error })] };
      requestContext.logger.error(`Unexpected error during query plan execution: ${String(error)}`);
      return { errors: [new GraphQLError('Unexpected error during query plan execution')] };
    }
  };
  // Apollo's span fails when shaping reported values or threw (its result then has errors and no data).
  const shapingFailed = (result: GatewayExecutionResult) =>
    result.extensions?.['valueCompletion'] !== undefined || (result.errors !== undefined && !('data' in result));
  return traced ? inSpan(SpanNames.POST_PROCESSING, {}, shape, shapingFailed) : shape();
}
