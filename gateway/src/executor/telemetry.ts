import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { OperationDefinitionNode } from 'graphql';

/**
 * The spans `@apollo/gateway` writes, under its instrumentation scope and
 * names, so traces (and dashboards built on them) read the same whichever
 * executor ran. Kept here rather than imported from `@apollo/gateway`, whose
 * telemetry module loads its metrics SDK and four cloud resource detectors.
 */
export const tracer = trace.getTracer('apollo/gateway-js');

export const SpanNames = {
  REQUEST: 'gateway.request',
  PLAN: 'gateway.plan',
  VALIDATE: 'gateway.validate',
  EXECUTE: 'gateway.execute',
  FETCH: 'gateway.fetch',
  POST_PROCESSING: 'gateway.postprocessing',
} as const;

/** Apollo's `requestContextSpanAttributes` (without the document, which it adds only when configured to). */
export function requestSpanAttributes(requestContext: GatewayGraphQLRequestContext): Attributes {
  const name = requestContext.operationName;
  return name ? { operationName: name, 'graphql.operation.name': name } : {};
}

/** Apollo's `operationContextSpanAttributes`. */
export function operationSpanAttributes(operation: OperationDefinitionNode): Attributes {
  return { 'graphql.operation.type': operation.operation };
}

/** Marks a span failed (Apollo records no exception events unless configured to, and neither do we). */
export function failed(span: Span): void {
  span.setStatus({ code: SpanStatusCode.ERROR });
}

const never = (): boolean => false;

/** Ends `span` after `result`, failed when `failedIf` says so of it. */
function finish<T>(span: Span, result: T, failedIf: (result: T) => boolean): T {
  if (failedIf(result)) failed(span);
  span.end();
  return result;
}

/** Ends `span` failed and rethrows. */
function abort(span: Span, error: unknown): never {
  failed(span);
  span.end();
  throw error;
}

/** Runs `work` in an active span named `name`; the span fails on a throw, or when `failedIf` says so of the result. */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => T,
  failedIf: (result: T) => boolean = never,
): T {
  return tracer.startActiveSpan(name, { attributes }, (span) => {
    let result: T;
    try {
      result = work();
    } catch (error) {
      abort(span, error);
    }
    return finish(span, result, failedIf);
  });
}

/** {@link inSpan} for asynchronous work: the span ends when the work settles. */
export function inSpanAsync<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
  failedIf: (result: T) => boolean = never,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, (span) =>
    (async () => work())().then(
      (result) => finish(span, result, failedIf),
      (error: unknown) => abort(span, error),
    ),
  );
}
