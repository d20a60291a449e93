import { sql, type Kysely } from 'kysely';

/**
 * The records table of ONE storage unit. The same file runs once per unit
 * schema (each with its own migration table), so it never names a schema:
 * every statement goes through the schema builder, which the migrator's
 * `withSchema(<unit>_unit)` qualifies — including the generated `search`
 * column and its GIN index. (Raw `sql` DDL would land in `public` on PGlite,
 * whose search_path is not the unit schema.)
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('records')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('title', 'text', (col) => col.notNull().check(sql`char_length(title) between 1 and 500`))
    .addColumn('content', 'text', (col) => col.notNull().check(sql`octet_length(content) <= 65536`))
    .addColumn('tags', sql`text[]`, (col) =>
      col
        .notNull()
        .defaultTo(sql`'{}'::text[]`)
        .check(sql`cardinality(tags) <= 20`),
    )
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('author_id', 'uuid')
    .addColumn('external_id', 'text', (col) => col.unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('search', sql`tsvector`, (col) =>
      col
        .generatedAlwaysAs(
          sql`setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce(content, '')), 'B')`,
        )
        .stored(),
    )
    .execute();
  await db.schema.createIndex('records_search_idx').on('records').using('gin').column('search').execute();
  await db.schema
    .createIndex('records_author_created_idx')
    .on('records')
    .columns(['author_id', 'created_at'])
    .execute();
  await db.schema.createIndex('records_created_idx').on('records').column('created_at').execute();
  await db.schema.createIndex('records_updated_idx').on('records').column('updated_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('records').execute();
}
