import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { Mutation } from './Mutation.ts';
import { Query } from './Query.ts';
import { StorageUnit, UnitStats } from './StorageUnit.ts';
import { AuthorCount, MaintenanceResult, UnitAnalytics, UnitRecord, UnitSearchHit } from './UnitRecord.ts';
import { User } from './User.ts';

/** ISO-8601 date-time (UTC, `Z`), the same wire format as the auth subgraph's `DateTime`. */
const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue(value) {
    const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
  parseLiteral(ast) {
    const date = ast.kind === Kind.STRING ? new Date(ast.value) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
});

export const resolvers = {
  DateTime,
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
