import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';

/** Longest `operationName` echoed back in an error message. */
const MAX_ECHOED_NAME = 100;

/**
 * Refuses, as client mistakes (400 with a stable code), the requests the
 * gateway's executor would otherwise turn into a 500: a document whose
 * `operationName` names no operation in it, a multi-operation document without
 * one, and a `subscription` over plain HTTP without a streaming `Accept`
 * (`SUBSCRIPTIONS_NOT_SUPPORTED`: streams go through `subscriptions/`). Runs
 * after validation, before planning, so no subgraph is called.
 */
export function operationResolutionPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) {
            throw new GraphQLError(operationResolutionProblem(document, request.operationName), {
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

/** The operation `operationName` picks in `document`: the named one, or the only one. */
export function resolveOperation(
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  if (operationName !== undefined && operationName !== null)
    return operations.find((operation) => operation.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

/** Why `operationName` picks no operation in `document` (one wording for every transport). */
export function operationResolutionProblem(document: DocumentNode, operationName: string | null | undefined): string {
  if (operationName !== undefined && operationName !== null)
    return `Unknown operation named ${JSON.stringify(operationName.slice(0, MAX_ECHOED_NAME))}`;
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION).length;
  return operations > 1
    ? 'Must provide operationName if the document contains multiple operations'
    : 'The document contains no operation';
}
