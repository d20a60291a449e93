import type { Kysely, Transaction } from 'kysely';
import type { OperationsDb } from './operations.table.ts';

/** The last entry id stored from `stream`; `0` (the stream's start) before any. */
export async function findStreamOffset(db: Kysely<OperationsDb>, stream: string): Promise<string> {
  const row = await db.selectFrom('stream_offsets').select('last_id').where('stream', '=', stream).executeTakeFirst();
  return row?.last_id ?? '0';
}

export async function saveStreamOffset(trx: Transaction<OperationsDb>, stream: string, lastId: string): Promise<void> {
  await trx
    .insertInto('stream_offsets')
    .values({ stream, last_id: lastId })
    .onConflict((oc) => oc.column('stream').doUpdateSet({ last_id: lastId, updated_at: new Date() }))
    .execute();
}
