import type { Kysely, Transaction } from 'kysely';
import type { AuditEventRow, NewAuditEvent, OperationsDb } from './operations.table.ts';

export interface AuditFilter {
  type?: string | null;
  actorId?: string | null;
  subjectId?: string | null;
  service?: string | null;
  outcome?: 'success' | 'failure' | null;
  from?: Date | null;
  to?: Date | null;
}

/** Stores events; one already stored (same id) is left as it is. */
export async function insertAuditEvents(trx: Transaction<OperationsDb>, rows: readonly NewAuditEvent[]): Promise<void> {
  await trx
    .insertInto('audit_events')
    .values([...rows])
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** Newest first, after the keyset `after` (`[at, id]` of the previous page's last row). */
export function listAuditEvents(
  db: Kysely<OperationsDb>,
  filter: AuditFilter,
  page: { after: { at: Date; id: string } | null; limit: number },
): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_events').selectAll();
  if (filter.type) query = query.where('type', '=', filter.type);
  if (filter.actorId) query = query.where('actor_id', '=', filter.actorId);
  if (filter.subjectId) query = query.where('subject_id', '=', filter.subjectId);
  if (filter.service) query = query.where('service', '=', filter.service);
  if (filter.outcome) query = query.where('outcome', '=', filter.outcome);
  if (filter.from) query = query.where('at', '>=', filter.from);
  if (filter.to) query = query.where('at', '<', filter.to);
  const after = page.after;
  if (after) {
    query = query.where((eb) =>
      eb.or([eb('at', '<', after.at), eb.and([eb('at', '=', after.at), eb('id', '<', after.id)])]),
    );
  }
  return query.orderBy('at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

/** Deletes up to `batch` events older than `before`; returns how many. */
export async function pruneAuditEvents(db: Kysely<OperationsDb>, before: Date, batch: number): Promise<number> {
  const result = await db
    .deleteFrom('audit_events')
    .where('id', 'in', (eb) => eb.selectFrom('audit_events').select('id').where('at', '<', before).limit(batch))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
