import { sql, type Kysely, type Transaction } from 'kysely';
import type { NewUsageRecord, OperationsDb } from './operations.table.ts';

/** Stores records; one already stored (same id) is left as it is. */
export async function insertUsageRecords(
  trx: Transaction<OperationsDb>,
  rows: readonly NewUsageRecord[],
): Promise<void> {
  await trx
    .insertInto('usage_records')
    .values([...rows])
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export interface UsageRange {
  from: Date;
  to: Date;
}

export interface UsageGroupRow {
  operation_name: string | null;
  day: string | null;
  requests: number;
  errors: number;
  p95_latency_ms: number;
}

/**
 * Requests in [from, to), optionally one user's, grouped by operation and/or
 * UTC day, busiest first (then by day, operation): counts, errors and the
 * 95th percentile latency (`percentile_cont`).
 */
export async function groupUsage(
  db: Kysely<OperationsDb>,
  range: UsageRange,
  options: { byOperation: boolean; byDay: boolean; userId?: string },
): Promise<UsageGroupRow[]> {
  const operation = options.byOperation ? sql<string | null>`operation_name` : sql<string | null>`null::text`;
  const day = options.byDay
    ? sql<string | null>`to_char(at at time zone 'UTC', 'YYYY-MM-DD')`
    : sql<string | null>`null::text`;
  let query = db
    .selectFrom('usage_records')
    .select([
      operation.as('operation_name'),
      day.as('day'),
      sql<string>`count(*)`.as('requests'),
      sql<string>`count(*) filter (where status = 'error')`.as('errors'),
      sql<number>`percentile_cont(0.95) within group (order by latency_ms)`.as('p95_latency_ms'),
    ])
    .where('at', '>=', range.from)
    .where('at', '<', range.to);
  if (options.userId) query = query.where('user_id', '=', options.userId);
  // Grouping by the select list's positions keeps each expression written once.
  const groups = [options.byOperation ? sql`1` : null, options.byDay ? sql`2` : null].filter((group) => group !== null);
  const grouped = groups.length > 0 ? query.groupBy(groups) : query;
  const rows = await grouped
    .orderBy(sql`count(*)`, 'desc')
    .orderBy(sql`2`)
    .orderBy(sql`1`)
    .execute();
  return rows
    .filter((row) => Number(row.requests) > 0)
    .map((row) => ({
      operation_name: row.operation_name,
      day: row.day,
      requests: Number(row.requests),
      errors: Number(row.errors),
      p95_latency_ms: Number(row.p95_latency_ms ?? 0),
    }));
}

/** Deletes up to `batch` records older than `before`; returns how many. */
export async function pruneUsageRecords(db: Kysely<OperationsDb>, before: Date, batch: number): Promise<number> {
  const result = await db
    .deleteFrom('usage_records')
    .where('id', 'in', (eb) => eb.selectFrom('usage_records').select('id').where('at', '<', before).limit(batch))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
