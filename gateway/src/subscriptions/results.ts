import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';

/** A client mistake (or a refusal) as the one result of a subscription that never opened. */
export function refusal(code: string, message: string): ExecutionResult {
  return { errors: [new GraphQLError(message, { extensions: { code } })] };
}

/** A masked error back as a GraphQLError (what `ExecutionResult` holds; it serialises to the same JSON). */
export function toGraphQLError(formatted: GraphQLFormattedError): GraphQLError {
  return new GraphQLError(formatted.message, {
    ...(formatted.path ? { path: formatted.path } : {}),
    ...(formatted.extensions ? { extensions: formatted.extensions } : {}),
  });
}
