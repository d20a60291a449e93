import { recordsPerAuthor, recordsPerDay, recordsPerTag } from '../analytics.repository.ts';
import type { AuthorCountResolvers, UnitAnalyticsResolvers } from '../generated/resolvers.ts';
import { userReference } from './mappers.ts';
import { loadUnit } from './StorageUnit.ts';

const ANALYTICS_ROWS = 50;
const ANALYTICS_DAYS = 90;

export const UnitAnalytics: UnitAnalyticsResolvers = {
  unit: ({ unit }, _, ctx) => loadUnit(ctx, unit.id),
  recordsPerTag: ({ unit }, _, { db }) => recordsPerTag(db, unit, ANALYTICS_ROWS),
  recordsPerAuthor: ({ unit }, _, { db }) => recordsPerAuthor(db, unit, ANALYTICS_ROWS),
  recordsPerDay: ({ unit }, _, { db }) => recordsPerDay(db, unit, ANALYTICS_DAYS),
};

export const AuthorCount: AuthorCountResolvers = {
  author: (row) => userReference(row.author_id),
};
