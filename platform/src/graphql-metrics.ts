import type { ApolloServerPlugin, BaseContext, GraphQLResponse } from '@apollo/server';
import { Kind, type DocumentNode, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';
import { metrics, operationLabel } from './metrics.ts';

/** What a GraphQL request turned out to be, for whoever reports it once the HTTP response is out (the gateway's request line). */
export interface OperationOutcome {
  /** The resolved operation's name (never query text); null when unnamed or unresolved. */
  operationName: string | null;
  operationType: 'query' | 'mutation' | 'subscription' | 'unknown';
  /** `extensions.code` of each error in the response, in order, as clients see them. */
  errorCodes: string[];
}

export interface GraphQLMetricsPluginOptions<TContext> {
  /** The `service` label. */
  service: string;
  /** Receives each request's outcome (e.g. to log it with the HTTP status); called in `willSendResponse`. */
  onOutcome?: (context: TContext, outcome: OperationOutcome) => void;
  /**
   * Count RATE_LIMITED errors in `rate_limit_rejections_total` by the refused
   * field (`Query.searchKnowledge`). Default true; the gateway turns it off
   * (the subgraph that refused counted it; the gateway counts its budgets).
   */
  countRateLimitRejections?: boolean;
}

/**
 * Counts every GraphQL request Apollo runs in `graphql_requests_total`,
 * `graphql_request_duration_seconds` and `graphql_errors_total` (one per error,
 * by its client-facing `extensions.code`). The `operation` label is the
 * resolved operation's name through {@link operationLabel}, so a client cannot
 * grow the label set without bound.
 *
 * @example
 * new ApolloServer({ schema, plugins: [graphqlMetricsPlugin({ service: 'auth' })] });
 */
export function graphqlMetricsPlugin<TContext extends BaseContext>(
  options: GraphQLMetricsPluginOptions<TContext>,
): ApolloServerPlugin<TContext> {
  const { service } = options;
  return {
    async requestDidStart() {
      const startedAt = performance.now();
      return {
        async willSendResponse({ operation, document, request, response, contextValue }) {
          const named = operation ?? namedOperation(document, request.operationName);
          const type = named?.operation ?? 'unknown';
          const name = named?.name?.value ?? null;
          const label = operationLabel(name);
          const errors = errorsOf(response);
          const errorCodes = errors.map((error) => errorCodeLabel(error.extensions?.['code']));
          metrics.graphqlRequests.inc({ service, operation: label, type, status: errorCodes.length ? 'error' : 'ok' });
          metrics.graphqlRequestDuration.observe(
            { service, operation: label, type },
            (performance.now() - startedAt) / 1000,
          );
          for (const code of errorCodes) metrics.graphqlErrors.inc({ service, code });
          if (options.countRateLimitRejections ?? true) {
            for (const error of errors) {
              if (error.extensions?.['code'] !== 'RATE_LIMITED') continue;
              metrics.rateLimitRejections.inc({ service, field: fieldOf(type, error.path) });
            }
          }
          options.onOutcome?.(contextValue, {
            operationName: name,
            operationType: type,
            errorCodes,
          });
        },
      };
    },
  };
}

function errorsOf(response: GraphQLResponse): readonly GraphQLFormattedError[] {
  const errors =
    response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
  return errors ?? [];
}

/**
 * The operation a document that failed validation (or resolution) meant: the
 * one `operationName` names, else its only one. Its name comes from the parsed
 * document, never from the client's `operationName` alone.
 */
function namedOperation(
  document: DocumentNode | undefined,
  operationName: string | null | undefined,
): OperationDefinitionNode | undefined {
  const operations = (document?.definitions ?? []).filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  if (operationName) return operations.find((operation) => operation.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

const ROOT_TYPES = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' } as const;

/** `Query.searchKnowledge` for a root field; the path's field names (list indexes left out) below the root. */
function fieldOf(type: OperationOutcome['operationType'], path: GraphQLFormattedError['path']): string {
  const names = (path ?? []).filter((segment): segment is string => typeof segment === 'string');
  if (names.length === 0) return 'unknown';
  if (names.length === 1 && type !== 'unknown') return `${ROOT_TYPES[type]}.${names[0]}`;
  return names.join('.');
}

/** A code as a label: known-shaped codes as they are, anything else `UNKNOWN` (labels stay bounded). */
export function errorCodeLabel(code: unknown): string {
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'UNKNOWN';
}
