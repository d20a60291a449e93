import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createDatabase,
  createTestDatabase,
  migrateAll,
  urlForRole,
  type SubgraphDatabaseSpec,
  type TestDatabase,
} from '@supergraph/db';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseSpec } from './server.ts';
import { REGISTRY_SCHEMA, UNITS } from './units.ts';

const databaseUrl = process.env['DATABASE_URL'];

// PGlite has a single built-in user and no login roles: there is nothing to isolate.
describe.skipIf(!databaseUrl)('schema ownership on PostgreSQL (skipped on PGlite: no roles there)', () => {
  let testDb: TestDatabase;
  let emptyMigrations: string;
  /** Another subgraph, as small as can be: its own role and schema, no tables. */
  let authLikeSpec: SubgraphDatabaseSpec;

  beforeAll(async () => {
    emptyMigrations = mkdtempSync(path.join(tmpdir(), 'auth-like-migrations-'));
    authLikeSpec = {
      name: 'auth',
      role: 'supergraph_auth',
      schemas: [{ schema: 'auth', migrationsDir: emptyMigrations }],
    };
    testDb = await createTestDatabase(databaseUrl);
    const report = await migrateAll(testDb.target, [authLikeSpec, databaseSpec]);
    expect(report.rolesManaged).toBe(true);
  });

  afterAll(async () => {
    await testDb?.drop();
    rmSync(emptyMigrations, { recursive: true, force: true });
  });

  it('makes the storage-units role the owner of every unit schema and table', async () => {
    const admin = createDatabase<unknown>(testDb.target, { schema: 'public' });
    try {
      const schemas = [REGISTRY_SCHEMA, ...UNITS.map((unit) => unit.schema)];
      const { rows } = await sql<{ nspname: string; owner: string }>`
        select n.nspname, pg_get_userbyid(n.nspowner) as owner from pg_namespace n where n.nspname = any(${schemas}::text[])
      `.execute(admin.db);
      expect(rows).toHaveLength(schemas.length);
      expect(new Set(rows.map((row) => row.owner))).toEqual(new Set([databaseSpec.role]));
      const tables = await sql<{ owner: string }>`
        select tableowner as owner from pg_tables where schemaname = any(${schemas}::text[])
      `.execute(admin.db);
      // registry: units + migration tables; each unit: records + migration tables.
      expect(tables.rows.length).toBeGreaterThanOrEqual(schemas.length * 2);
      expect(new Set(tables.rows.map((row) => row.owner))).toEqual(new Set([databaseSpec.role]));
    } finally {
      await admin.close();
    }
  });

  it('refuses another subgraph role any unit schema', async () => {
    const other = createDatabase<unknown>(
      { kind: 'postgres', url: urlForRole(testDb.url!, authLikeSpec.role) },
      { schema: 'auth' },
    );
    try {
      for (const unit of UNITS) {
        await expect(
          sql`select * from ${sql.id(unit.schema, 'records')}`.execute(other.db),
          unit.schema,
        ).rejects.toThrow(/permission denied/);
      }
      await expect(sql`select * from storage_registry.units`.execute(other.db)).rejects.toThrow(/permission denied/);
      await expect(
        sql`insert into physics_unit.records (title, content, source) values ('x', 'y', 'z')`.execute(other.db),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await other.close();
    }
  });

  it('lets the storage-units role read and write its own schemas', async () => {
    const own = createDatabase<unknown>(
      { kind: 'postgres', url: urlForRole(testDb.url!, databaseSpec.role) },
      { schema: REGISTRY_SCHEMA },
    );
    try {
      await sql`insert into physics_unit.records (title, content, source) values ('x', 'y', 'z')`.execute(own.db);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from physics_unit.records`.execute(own.db);
      expect(rows[0]?.n).toBe(1);
    } finally {
      await own.close();
    }
  });
});
