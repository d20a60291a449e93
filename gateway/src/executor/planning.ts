import { Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner } from '@apollo/query-planner';
import type { GraphQLSchema } from 'graphql';

/**
 * One supergraph, read once for planning: the query planner and the schemas
 * execution needs. Shared by the HTTP executor and the subscription core so a
 * gateway holds one planner (it is the biggest object a gateway builds).
 */
export interface Planning {
  planner: QueryPlanner;
  /** The API schema (what clients see) as federation-internals models it: operations are built over it. */
  apiSchema: Schema;
  /** The same API schema as graphql-js. */
  apiGraphQLSchema: GraphQLSchema;
  /** The whole supergraph as graphql-js (type tests on entities and rewrites run against it). */
  supergraphSchema: GraphQLSchema;
}

/** `sdl` is the supergraph as the query planner reads it (`supergraphForQueryPlanner`). */
export function createPlanning(sdl: string): Planning {
  const supergraph = Supergraph.build(sdl);
  const apiSchema = supergraph.apiSchema();
  return {
    planner: new QueryPlanner(supergraph),
    apiSchema,
    apiGraphQLSchema: apiSchema.toGraphQLJSSchema(),
    supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
  };
}
