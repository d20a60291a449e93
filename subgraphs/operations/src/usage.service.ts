import type { Kysely } from 'kysely';
import { badUserInput } from '@supergraph/platform';
import type { OperationsDb } from './operations.table.ts';
import { groupUsage, type UsageGroupRow, type UsageRange } from './usage.repository.ts';

/** The widest range a usage query may ask for (a quarter). */
export const MAX_USAGE_RANGE_DAYS = 93;

/** BAD_USER_INPUT unless `from` < `to` and the range spans at most {@link MAX_USAGE_RANGE_DAYS} days. */
export function checkUsageRange(from: Date | string, to: Date | string): UsageRange {
  const range = { from: new Date(from), to: new Date(to) };
  if (Number.isNaN(range.from.getTime())) throw badUserInput('from is not a valid date-time', 'from');
  if (Number.isNaN(range.to.getTime())) throw badUserInput('to is not a valid date-time', 'to');
  if (range.from >= range.to) throw badUserInput('from must be before to', 'from');
  if (range.to.getTime() - range.from.getTime() > MAX_USAGE_RANGE_DAYS * 86_400_000)
    throw badUserInput(`The range may span at most ${MAX_USAGE_RANGE_DAYS} days`, 'to');
  return range;
}

export interface UsageReportRowModel {
  operationName: string | null;
  day: string | null;
  requests: number;
  errors: number;
  errorRate: number;
  p95LatencyMs: number;
}

function toReportRow(row: UsageGroupRow): UsageReportRowModel {
  return {
    operationName: row.operation_name,
    day: row.day,
    requests: row.requests,
    errors: row.errors,
    errorRate: row.requests > 0 ? row.errors / row.requests : 0,
    p95LatencyMs: Math.round(row.p95_latency_ms * 100) / 100,
  };
}

export async function usageReport(
  db: Kysely<OperationsDb>,
  input: { from: Date | string; to: Date | string; groupBy: ReadonlyArray<'OPERATION' | 'DAY'> },
): Promise<UsageReportRowModel[]> {
  const range = checkUsageRange(input.from, input.to);
  const rows = await groupUsage(db, range, {
    byOperation: input.groupBy.includes('OPERATION'),
    byDay: input.groupBy.includes('DAY'),
  });
  return rows.map(toReportRow);
}

export interface UsageSummaryModel {
  from: Date;
  to: Date;
  requests: number;
  errors: number;
  byOperation: Array<Pick<UsageReportRowModel, 'operationName' | 'requests' | 'errors' | 'p95LatencyMs'>>;
}

/** One user's requests in the range, in all and per operation. */
export async function usageSummary(
  db: Kysely<OperationsDb>,
  userId: string,
  input: { from: Date | string; to: Date | string },
): Promise<UsageSummaryModel> {
  const range = checkUsageRange(input.from, input.to);
  const rows = await groupUsage(db, range, { byOperation: true, byDay: false, userId });
  const byOperation = rows.map(toReportRow).map(({ operationName, requests, errors, p95LatencyMs }) => ({
    operationName,
    requests,
    errors,
    p95LatencyMs,
  }));
  return {
    ...range,
    requests: byOperation.reduce((sum, row) => sum + row.requests, 0),
    errors: byOperation.reduce((sum, row) => sum + row.errors, 0),
    byOperation,
  };
}
