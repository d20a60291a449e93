import { createDatabase, createTestDatabase, migrateAll, urlForRole, type TestDatabase } from '@supergraph/db';
import { SUBGRAPHS } from '@supergraph/registry';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Every subgraph connects as its own role, which owns its schemas and can
 * touch nothing else. Roles exist only on a real PostgreSQL (PGlite is single-user).
 */
const specs = SUBGRAPHS.map((subgraph) => subgraph.database);
let testDb: TestDatabase;

describe.runIf(Boolean(process.env['DATABASE_URL']))('least privilege per subgraph (real PostgreSQL)', () => {
  beforeAll(async () => {
    testDb = await createTestDatabase(process.env['DATABASE_URL']);
    const report = await migrateAll(testDb.target, specs);
    expect(report.rolesManaged).toBe(true);
  });

  afterAll(async () => {
    await testDb?.drop();
  });

  for (const spec of specs) {
    it(`${spec.role} owns every table of its schemas and reads no other subgraph's`, async () => {
      const database = createDatabase(
        { kind: 'postgres', url: urlForRole(testDb.url!, spec.role) },
        { schema: spec.schemas[0]!.schema },
      );
      try {
        const own = spec.schemas.map((entry) => entry.schema);
        const { rows: owners } = await sql<{ schemaname: string; tableowner: string }>`
          select schemaname, tableowner from pg_tables where schemaname = any(${own})
        `.execute(database.db);
        expect(owners.length).toBeGreaterThan(0);
        expect(new Set(owners.map((row) => row.tableowner))).toEqual(new Set([spec.role]));

        const { rows: others } = await sql<{ schemaname: string; tablename: string }>`
          select schemaname, tablename from pg_tables
          where schemaname = any(${specs.filter((other) => other !== spec).flatMap((other) => other.schemas.map((entry) => entry.schema))})
        `.execute(database.db);
        expect(others.length).toBeGreaterThan(0);
        for (const table of others) {
          await expect(
            sql`select 1 from ${sql.id(table.schemaname, table.tablename)} limit 1`.execute(database.db),
            `${spec.role} must not read ${table.schemaname}.${table.tablename}`,
          ).rejects.toMatchObject({ code: '42501' });
        }
      } finally {
        await database.close();
      }
    });
  }
});
