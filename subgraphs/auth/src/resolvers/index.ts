import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { Resolvers } from '../generated/resolvers.ts';
import { accountMutations, accountQueries } from './account.ts';
import { adminMutations, adminQueries } from './admin.ts';
import { apiKeyMutations, apiKeyQueries } from './api-keys.ts';
import { internalQueries } from './internal.ts';
import { providerKeyMutations, providerKeyQueries } from './provider-keys.ts';
import { userResolvers } from './User.ts';

/** Every other type resolves from the shapes in `mappers.ts` with default field resolvers. */
export const resolvers: Resolvers = {
  JSON: JSONResolver,
  DateTime: DateTimeResolver,
  Query: { ...accountQueries, ...apiKeyQueries, ...providerKeyQueries, ...adminQueries, ...internalQueries },
  Mutation: { ...accountMutations, ...apiKeyMutations, ...providerKeyMutations, ...adminMutations },
  User: userResolvers,
};
