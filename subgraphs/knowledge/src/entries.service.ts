import { conflict, forbidden, notFound } from '@supergraph/platform';
import type { Kysely, Transaction } from 'kysely';
import {
  deleteEntryAsActor,
  findEntryAuthor,
  insertEntries,
  recordIngestRun,
  updateEntryAsActor,
  type Actor,
  type EntryPatch,
} from './entries.repository.ts';
import { refreshFrequentLexemesFor, type FrequentLexemeOptions } from './frequent-lexemes.repository.ts';
import type { EntryRow, KnowledgeDb, NewEntry } from './knowledge.table.ts';

/**
 * Writes to entries with their rules: new entries keep the top lists of very
 * common lexemes whole, a repeated `externalId` is a CONFLICT, and only an
 * entry's author or an admin changes it (NOT_FOUND / FORBIDDEN otherwise).
 */

/**
 * Inserts entries and, in the same transaction, gives a top list to every
 * lexeme they made very common (existing lists take the rows through the
 * triggers). With `run`, also records the import in `ingest_runs`.
 *
 * @example
 * const rows = await db.transaction().execute((trx) => ingestEntries(trx, entries, { minMatches: cap }));
 */
export async function ingestEntries(
  trx: Transaction<KnowledgeDb>,
  entries: readonly NewEntry[],
  lists: Partial<FrequentLexemeOptions>,
  run?: { source: string; startedAt: Date },
): Promise<EntryRow[]> {
  const inserted = await insertEntries(trx, entries).catch(asConflict);
  await refreshFrequentLexemesFor(
    trx,
    inserted.map((row) => row.id),
    lists,
  );
  if (run) await recordIngestRun(trx, { ...run, seen: entries.length, added: inserted.length });
  return inserted;
}

/** Applies `patch` if `actor` may; NOT_FOUND or FORBIDDEN otherwise. */
export async function updateEntry(
  db: Kysely<KnowledgeDb>,
  id: string,
  patch: EntryPatch,
  actor: Actor,
): Promise<EntryRow> {
  return (await updateEntryAsActor(db, id, patch, actor)) ?? refusal(db, id);
}

/** Deletes the entry if `actor` may; NOT_FOUND or FORBIDDEN otherwise. */
export async function deleteEntry(db: Kysely<KnowledgeDb>, id: string, actor: Actor): Promise<void> {
  if (!(await deleteEntryAsActor(db, id, actor))) await refusal(db, id);
}

/** 23505 on `external_id`: someone already imported that id. */
function asConflict(error: unknown): never {
  if (typeof error === 'object' && error !== null && 'code' in error && error.code === '23505')
    throw conflict('An entry with this externalId already exists');
  throw error;
}

/** Why an owner-checked write changed nothing: NOT_FOUND when the entry does not exist, FORBIDDEN when it belongs to someone else. */
async function refusal(db: Kysely<KnowledgeDb>, id: string): Promise<never> {
  const existing = await findEntryAuthor(db, id);
  if (!existing) throw notFound('No knowledge entry with this id', { id });
  throw forbidden('Only the author or an admin may change this entry');
}
