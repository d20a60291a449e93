import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Generated } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createDatabase,
  createTestDatabase,
  migrateAll,
  urlForRole,
  type SubgraphDatabaseSpec,
  type TestDatabase,
} from './index.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures');
const specs: SubgraphDatabaseSpec[] = [
  { name: 'alpha', role: 'supergraph_test_alpha', schemas: [{ schema: 'alpha', migrationsDir: `${fixtures}/alpha` }] },
  { name: 'beta', role: 'supergraph_test_beta', schemas: [{ schema: 'beta', migrationsDir: `${fixtures}/beta` }] },
];

interface NotesDb {
  notes: { id: Generated<number>; body: string };
}

let testDb: TestDatabase;
const isPostgres = Boolean(process.env['DATABASE_URL']);

beforeAll(async () => {
  testDb = await createTestDatabase(process.env['DATABASE_URL']);
  await migrateAll(testDb.target, specs);
});

afterAll(async () => {
  await testDb?.drop();
});

describe('migrateAll', () => {
  it('creates each schema with its tables and is idempotent', async () => {
    const report = await migrateAll(testDb.target, specs);
    expect(report.applied).toEqual([]);
    const { db, close } = createDatabase<NotesDb>(testDb.target, { schema: 'alpha' });
    try {
      await db.insertInto('notes').values({ body: 'hello' }).execute();
      const rows = await db.selectFrom('notes').selectAll().execute();
      expect(rows.map((row) => row.body)).toEqual(['hello']);
    } finally {
      await close();
    }
  });

  it('keeps writes atomic: a failed transaction leaves nothing behind', async () => {
    const { db, close } = createDatabase<NotesDb>(testDb.target, { schema: 'beta' });
    try {
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('notes').values({ body: 'lost' }).execute();
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      const rows = await db.selectFrom('notes').selectAll().where('body', '=', 'lost').execute();
      expect(rows).toEqual([]);
    } finally {
      await close();
    }
  });

  it('serialises concurrent transactions on one connection without interleaving', async () => {
    const { db, close } = createDatabase<NotesDb>(testDb.target, { schema: 'beta', poolMax: 4 });
    try {
      await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          db.transaction().execute(async (trx) => {
            await trx
              .insertInto('notes')
              .values({ body: `concurrent-${index}` })
              .execute();
            const { rows } = await sql<{
              count: string;
            }>`select count(*) as count from beta.notes where body like 'concurrent-%'`.execute(trx);
            expect(Number(rows[0]?.count)).toBeGreaterThan(0);
          }),
        ),
      );
      const rows = await db.selectFrom('notes').select('body').where('body', 'like', 'concurrent-%').execute();
      expect(rows).toHaveLength(8);
    } finally {
      await close();
    }
  });
  it('keeps a committed row when a concurrent transaction rolls back', async () => {
    // PGlite has one backend: without the dialect's lock the second transaction's BEGIN joins the
    // first one, and its ROLLBACK takes the first one's insert with it, which then "commits" nothing.
    const { db, close } = createDatabase<NotesDb>(testDb.target, { schema: 'beta', poolMax: 4 });
    const signal = () => {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      return { promise, resolve };
    };
    const firstInserted = signal();
    const secondRolledBack = signal();
    try {
      const first = db.transaction().execute(async (trx) => {
        await trx.insertInto('notes').values({ body: 'committed-survivor' }).execute();
        firstInserted.resolve();
        // Let the other transaction run now if anything lets it (the lock must not): with the lock
        // it waits for this commit, so give up waiting after a moment; no timing decides the outcome.
        await Promise.race([secondRolledBack.promise, new Promise((resolve) => setTimeout(resolve, 200))]);
      });
      const second = (async () => {
        await firstInserted.promise;
        await expect(
          db.transaction().execute(async (trx) => {
            await trx.insertInto('notes').values({ body: 'rolled-back' }).execute();
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        secondRolledBack.resolve();
      })();
      await Promise.all([first, second]);
      const rows = await db
        .selectFrom('notes')
        .select('body')
        .where('body', 'in', ['committed-survivor', 'rolled-back'])
        .execute();
      expect(rows.map((row) => row.body)).toEqual(['committed-survivor']);
    } finally {
      await close();
    }
  });
});

describe.runIf(isPostgres)(
  'least privilege (real PostgreSQL; skipped without DATABASE_URL: PGlite has no roles)',
  () => {
    it('gives each subgraph a role that owns its schema and cannot read another', async () => {
      const alpha = createDatabase<NotesDb>(
        { kind: 'postgres', url: urlForRole(testDb.url!, 'supergraph_test_alpha') },
        { schema: 'alpha' },
      );
      try {
        await alpha.db.insertInto('notes').values({ body: 'mine' }).execute();
        await expect(sql`select * from beta.notes`.execute(alpha.db)).rejects.toMatchObject({ code: '42501' });
        await expect(sql`create table public.sneaky (id int)`.execute(alpha.db)).rejects.toMatchObject({
          code: '42501',
        });
        const { rows } = await sql<{ owner: string }>`
        select tableowner as owner from pg_tables where schemaname = 'alpha' and tablename = 'notes'
      `.execute(alpha.db);
        expect(rows[0]?.owner).toBe('supergraph_test_alpha');
      } finally {
        await alpha.close();
      }
    });

    it('survives its connections being killed (as in a PostgreSQL restart) and reconnects', async () => {
      const errors: Error[] = [];
      const database = createDatabase<NotesDb>(
        { kind: 'postgres', url: testDb.url! },
        { schema: 'alpha', onPoolError: (error) => errors.push(error) },
      );
      try {
        await database.ping();
        const admin = new pg.Client({ connectionString: testDb.url! });
        await admin.connect();
        await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'supergraph:alpha' and pid <> pg_backend_pid()`,
        );
        await admin.end();
        // Wait for the pool to report its broken idle connection (an event, not a guessed sleep);
        // a pool that never notices fails here after 10 s.
        await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
        await database.ping();
      } finally {
        await database.close();
      }
    });
  },
);
