import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { createLogger } from '@supergraph/platform';

const log = createLogger('gateway');

/**
 * When a subgraph leaves a non-null field null without an error, the gateway
 * nulls the nearest nullable parent and reports it in the response's top-level
 * `extensions.valueCompletion` ("Cannot return null for non-nullable field
 * Ledger.balance."), which `formatError` never sees. This moves each report to
 * the log and answers the client a masked INTERNAL_SERVER_ERROR at its path,
 * as GraphQL requires for a null that propagated.
 */
export function valueCompletionPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const reports = result.extensions?.['valueCompletion'];
          if (reports === undefined) return;
          const { valueCompletion: _valueCompletion, ...extensions } = result.extensions ?? {};
          const errors = valueCompletionErrors(reports);
          response.body.singleResult = {
            ...result,
            errors: [...(result.errors ?? []), ...errors],
            extensions,
          };
          if (Object.keys(extensions).length === 0) delete response.body.singleResult.extensions;
        },
      };
    },
  };
}

/** Logs each `extensions.valueCompletion` report and answers a masked INTERNAL_SERVER_ERROR at its path (subscriptions use it per event). */
export function valueCompletionErrors(reports: unknown): GraphQLFormattedError[] {
  return (Array.isArray(reports) ? reports : [reports]).map((report): GraphQLFormattedError => {
    const { message, path } = (report ?? {}) as { message?: unknown; path?: unknown };
    log.error({ path: path ?? [] }, `value completion: ${String(message)}`);
    return {
      message: 'Internal server error',
      ...(Array.isArray(path) ? { path: path as Array<string | number> } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  });
}
