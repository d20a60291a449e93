import { createDatabase, createTestDatabase, migrateAll, type TestDatabase } from '@supergraph/db';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseSpec } from './server.ts';
import { UNITS } from './units.ts';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase(process.env['DATABASE_URL']);
  await migrateAll(testDb.target, [databaseSpec]);
});

afterAll(async () => {
  await testDb?.drop();
});

async function inspect<T>(query: ReturnType<typeof sql<T>>): Promise<T[]> {
  const admin = createDatabase<unknown>(testDb.target, { schema: 'public' });
  try {
    return (await query.execute(admin.db)).rows;
  } finally {
    await admin.close();
  }
}

describe('unit migrations', () => {
  it('create the records table, its generated tsvector and GIN index inside every unit schema, nothing in public', async () => {
    const columns = await inspect(sql<{ schema: string; generated: string; type: string }>`
      select table_schema as schema, is_generated as generated, data_type as type
      from information_schema.columns where table_name = 'records' and column_name = 'search' order by table_schema
    `);
    expect(columns.map((column) => column.schema)).toEqual(UNITS.map((unit) => unit.schema).sort());
    expect(columns.every((column) => column.generated === 'ALWAYS' && column.type === 'tsvector')).toBe(true);
    const indexes = await inspect(sql<{ schema: string; definition: string }>`
      select schemaname as schema, indexdef as definition from pg_indexes where indexname = 'records_search_idx' order by schemaname
    `);
    expect(indexes.map((index) => index.schema)).toEqual(UNITS.map((unit) => unit.schema).sort());
    for (const index of indexes)
      expect(index.definition).toMatch(new RegExp(`ON ${index.schema}\\.records USING gin \\(search\\)`));
    const strays = await inspect(
      sql<{ name: string }>`select tablename as name from pg_tables where schemaname = 'public'`,
    );
    expect(strays.map((stray) => stray.name)).not.toContain('records');
  });

  it('keep one migration table per schema', async () => {
    const tables = await inspect(sql<{ schema: string }>`
      select schemaname as schema from pg_tables where tablename = 'kysely_migration' order by schemaname
    `);
    expect(tables.map((table) => table.schema)).toEqual(databaseSpec.schemas.map((entry) => entry.schema).sort());
  });

  it('weigh titles above content in the generated vector', async () => {
    const unit = UNITS[0]!;
    const [row] = await inspect(sql<{ search: string }>`
      insert into ${sql.id(unit.schema, 'records')} (title, content, source) values ('Entropy', 'Disorder grows', 'test') returning search::text
    `);
    expect(row?.search).toBe(`'disord':2B 'entropi':1A 'grow':3B`);
  });

  it('migrate an added unit alone: one entry more is one schema more, the others untouched', async () => {
    const unitDir = databaseSpec.schemas.find((entry) => entry.schema === UNITS[0]!.schema)!.migrationsDir;
    const withEighth = {
      ...databaseSpec,
      schemas: [...databaseSpec.schemas, { schema: 'biology_unit', migrationsDir: unitDir }],
    };
    const report = await migrateAll(testDb.target, [withEighth]);
    expect(report.applied.map((entry) => entry.schema)).toEqual(['biology_unit']);
    const [table] = await inspect(sql<{ n: number }>`select count(*)::int as n from biology_unit.records`);
    expect(table?.n).toBe(0);
  });
});
