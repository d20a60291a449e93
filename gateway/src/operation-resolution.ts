import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, Kind } from 'graphql';

/** Longest `operationName` echoed back in an error message. */
const MAX_ECHOED_NAME = 100;

/**
 * Refuses, as client mistakes (400 with a stable code), the requests the
 * gateway's executor would otherwise turn into a 500: a document whose
 * `operationName` names no operation in it, a multi-operation document without
 * one, and a `subscription` over plain HTTP, which the gateway cannot run
 * (`SUBSCRIPTIONS_NOT_SUPPORTED` until a subscription transport exists). Runs
 * after validation, before planning, so no subgraph is called.
 */
export function operationResolutionPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) {
            const named = request.operationName;
            const operations = document.definitions.filter(
              (definition) => definition.kind === Kind.OPERATION_DEFINITION,
            ).length;
            const message =
              named !== undefined && named !== null
                ? `Unknown operation named ${JSON.stringify(named.slice(0, MAX_ECHOED_NAME))}`
                : operations > 1
                  ? 'Must provide operationName if the document contains multiple operations'
                  : 'The document contains no operation';
            throw new GraphQLError(message, {
              extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } },
            });
          }
          if (operation.operation === 'subscription') {
            throw new GraphQLError('Subscriptions are not supported over this transport', {
              extensions: { code: 'SUBSCRIPTIONS_NOT_SUPPORTED', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
