import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { AuthContext } from '../context.ts';
import { accountMutations, accountQueries, sessionFields } from './account.ts';
import { adminMutations, adminQueries } from './admin.ts';
import { apiKeyFields, apiKeyMutations, apiKeyQueries } from './api-keys.ts';
import { internalQueries } from './internal.ts';
import { userResolvers, userRoleValues, userTierValues } from './User.ts';

export const resolvers: GraphQLResolverMap<AuthContext> = {
  JSON: JSONResolver,
  DateTime: DateTimeResolver,
  Query: { ...accountQueries, ...apiKeyQueries, ...adminQueries, ...internalQueries },
  Mutation: { ...accountMutations, ...apiKeyMutations, ...adminMutations },
  User: userResolvers,
  UserRole: userRoleValues,
  UserTier: userTierValues,
  Session: sessionFields,
  ApiKey: apiKeyFields,
} as GraphQLResolverMap<AuthContext>;
