import { decodeCursor, encodeCursor, requireIntInRange, toConnection } from '@supergraph/kit';
import { badUserInput } from '@supergraph/platform';
import { listAuditEvents } from '../audit.repository.ts';
import type { QueryResolvers } from '../generated/resolvers.ts';
import { readSnapshot } from '../settings.service.ts';
import { systemMetrics, systemStatus } from '../system.service.ts';
import { usageReport } from '../usage.service.ts';
import { toAuditEvent, toSettings } from './mappers.ts';

const PAGE_MAX = 100;

type AuditCursor = [at: string, id: string];

function isAuditCursor(value: unknown): value is AuditCursor {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'string' &&
    !Number.isNaN(Date.parse(value[0])) &&
    typeof value[1] === 'string' &&
    /^[0-9a-f-]{36}$/.test(value[1])
  );
}

function optionalDate(value: Date | string | null | undefined, field: string): Date | null {
  if (value === null || value === undefined) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badUserInput(`${field} is not a valid date-time`, field);
  return date;
}

function optionalText(value: string | null | undefined, field: string, max: number): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (value.length > max) throw badUserInput(`${field} may be at most ${max} characters`, field);
  return value;
}

export const Query: QueryResolvers = {
  systemStatus: (_, __, ctx) => systemStatus(ctx.system),
  services: (_, __, ctx) => ctx.system.health.checkAll(ctx.system.targets),
  async service(_, { name }, ctx) {
    const target = ctx.system.targets.find((candidate) => candidate.name === name);
    if (!target) return null;
    const [report] = await ctx.system.health.checkAll([target]);
    return report ?? null;
  },
  systemMetrics: (_, __, ctx) => systemMetrics(ctx.system),
  settings: async (_, __, ctx) => toSettings(await readSnapshot(ctx.db)),
  async auditLog(_, args, ctx) {
    const first = requireIntInRange(args.first ?? 20, 'first', 1, PAGE_MAX);
    const cursor = args.after ? decodeCursor(args.after, isAuditCursor, 'after') : null;
    const filter = args.filter ?? {};
    const from = optionalDate(filter.from, 'filter.from');
    const to = optionalDate(filter.to, 'filter.to');
    if (from && to && from >= to) throw badUserInput('filter.from must be before filter.to', 'filter.from');
    const rows = await listAuditEvents(
      ctx.db,
      {
        type: optionalText(filter.type, 'filter.type', 100),
        actorId: optionalText(filter.actorId, 'filter.actorId', 200),
        subjectId: optionalText(filter.subjectId, 'filter.subjectId', 200),
        service: optionalText(filter.service, 'filter.service', 100),
        outcome: filter.outcome === 'SUCCESS' ? 'success' : filter.outcome === 'FAILURE' ? 'failure' : null,
        from,
        to,
      },
      { after: cursor ? { at: new Date(cursor[0]), id: cursor[1] } : null, limit: first + 1 },
    );
    return toConnection(rows, first, {
      cursorOf: (row) => encodeCursor([new Date(row.at).toISOString(), row.id]),
      toNode: toAuditEvent,
      hasPrevious: cursor !== null,
    });
  },
  usageReport: (_, args, ctx) =>
    usageReport(ctx.db, { from: args.from, to: args.to, groupBy: args.groupBy ?? ['OPERATION', 'DAY'] }),
};
