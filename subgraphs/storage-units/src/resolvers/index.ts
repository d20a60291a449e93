import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../generated/resolvers.ts';
import { Mutation } from './Mutation.ts';
import { Query } from './Query.ts';
import { StorageUnit, UnitStats } from './StorageUnit.ts';
import { AuthorCount, UnitAnalytics } from './UnitAnalytics.ts';
import { MaintenanceResult, UnitRecord, UnitSearchHit } from './UnitRecord.ts';
import { User } from './User.ts';

/**
 * Typed by codegen with the models of `mappers.ts` as the shapes resolvers
 * return (`codegen.json`); every other type resolves with default field resolvers.
 */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  Query,
  Mutation,
  StorageUnit,
  UnitStats,
  UnitRecord,
  UnitSearchHit,
  MaintenanceResult,
  UnitAnalytics,
  AuthorCount,
  User,
};
