import { sql, type Kysely } from 'kysely';

/**
 * Knowledge entries with ranked full-text search.
 *
 * `search` weighs the title (A) above the body (B) and is what results are
 * ranked by; `title_search` indexes the title alone so the capped search can
 * take title hits first (see the README, "Search at scale"). Both are STORED
 * generated columns: computed once on write, never at query time. The trigram
 * index on `title` serves the fuzzy fallback for misspelt queries.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table knowledge.entries (
      id uuid primary key default gen_random_uuid(),
      external_id text unique,
      title text not null check (char_length(title) between 1 and 500),
      body text not null default '' check (octet_length(body) <= 102400),
      topic text check (char_length(topic) between 1 and 64),
      tags text[] not null default '{}' check (cardinality(tags) <= 20),
      source text,
      language text not null default 'en',
      author_id uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      search tsvector generated always as (
        setweight(to_tsvector('english'::regconfig, title), 'A') ||
        setweight(to_tsvector('english'::regconfig, body), 'B')
      ) stored,
      title_search tsvector generated always as (to_tsvector('english'::regconfig, title)) stored
    )
  `.execute(db);
  await sql`create index entries_search_idx on knowledge.entries using gin (search)`.execute(db);
  await sql`create index entries_title_search_idx on knowledge.entries using gin (title_search)`.execute(db);
  await sql`create index entries_title_trgm_idx on knowledge.entries using gin (title public.gin_trgm_ops)`.execute(db);
  await sql`create index entries_topic_idx on knowledge.entries (topic)`.execute(db);
  await sql`create index entries_author_idx on knowledge.entries (author_id, created_at desc, id desc) where author_id is not null`.execute(
    db,
  );
  await sql`create index entries_created_idx on knowledge.entries (created_at desc)`.execute(db);

  await sql`
    create table knowledge.ingest_runs (
      id bigint generated always as identity primary key,
      source text not null,
      started_at timestamptz not null,
      finished_at timestamptz not null default now(),
      entries_seen integer not null default 0,
      entries_added integer not null default 0
    )
  `.execute(db);
  await sql`create index ingest_runs_finished_idx on knowledge.ingest_runs (finished_at desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists knowledge.ingest_runs`.execute(db);
  await sql`drop table if exists knowledge.entries`.execute(db);
}
