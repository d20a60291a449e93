/**
 * The PGlite dialect on PGlite, whatever DATABASE_URL says. `npm start` runs on
 * it by default, but CI sets DATABASE_URL, and every other database test then
 * runs on PostgreSQL: without this file CI never exercises the dialect's lock.
 * It opens PGlite directly (not through `createTestDatabase`), so
 * SUPERGRAPH_FORBID_EMBEDDED=1 does not refuse it: here the embedded database
 * is what is under test, not a stand-in for the real one.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { Generated } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, openEmbeddedPostgres } from './index.ts';

interface NotesDb {
  notes: { id: Generated<number>; body: string };
}

let pglite: PGlite;

beforeAll(async () => {
  pglite = await openEmbeddedPostgres('memory://');
  await pglite.exec('create schema dialect; create table dialect.notes (id serial primary key, body text not null)');
});

afterAll(async () => {
  await pglite?.close();
});

describe('PgliteDialect', () => {
  it('keeps a committed row when a concurrent transaction rolls back (one backend, lent to one transaction at a time)', async () => {
    // Without the lock the second BEGIN joins the first transaction, and its ROLLBACK takes the
    // first one's insert with it. With the lock the second waits for the first to commit; the
    // first gives up waiting for the second after a moment, so no timing decides the outcome.
    const { db } = createDatabase<NotesDb>({ kind: 'pglite', pglite }, { schema: 'dialect', poolMax: 4 });
    let firstInserted!: () => void;
    const inserted = new Promise<void>((resolve) => (firstInserted = resolve));
    let secondRolledBack!: () => void;
    const rolledBack = new Promise<void>((resolve) => (secondRolledBack = resolve));

    const first = db.transaction().execute(async (trx) => {
      await trx.insertInto('notes').values({ body: 'committed' }).execute();
      firstInserted();
      await Promise.race([rolledBack, new Promise((resolve) => setTimeout(resolve, 200))]);
    });
    const second = (async () => {
      await inserted;
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('notes').values({ body: 'rolled back' }).execute();
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      secondRolledBack();
    })();
    await Promise.all([first, second]);

    const rows = await db.selectFrom('notes').select('body').execute();
    expect(rows.map((row) => row.body)).toEqual(['committed']);
  });
});
