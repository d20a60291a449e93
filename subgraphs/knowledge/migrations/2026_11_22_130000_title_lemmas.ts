import { sql, type Kysely } from 'kysely';

/**
 * Exact-title boost (README, "Search at scale"): a title is a comma-separated
 * list of lemmas ("speed of light, light speed, c"); the search puts entries
 * one of whose lemmas equals the query text first. This GIN index on the
 * immutable expression `string_to_array(lower(title), ', ')` answers
 * `string_to_array(lower(e.title), ', ') @> array[<text>]` with an index
 * lookup at any corpus size (the query must repeat the expression verbatim).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index entries_title_lemmas_idx on knowledge.entries
     using gin ((string_to_array(lower(title), ', ')))
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists knowledge.entries_title_lemmas_idx`.execute(db);
}
