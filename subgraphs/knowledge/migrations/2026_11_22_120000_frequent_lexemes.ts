import { sql, type Kysely } from 'kysely';

/**
 * Precomputed exact top lists for very common lexemes (README, "Search at scale").
 *
 * `frequent_lexeme_terms` names the lexemes of `entries.search` that match more
 * entries than the capped search ranks; `frequent_lexemes` holds, per such
 * lexeme, its best entries by `ts_rank(search, '<lexeme>'::tsquery)` in the
 * order the search returns them (rank desc, entry id). `refreshFrequentLexemes`
 * rebuilds both. Between rebuilds, statement-level triggers on `entries` keep
 * every list an exact prefix of the full ranking: deleted/updated entries leave
 * their lists, and new versions join a list when they rank above its last row
 * (a list may grow past its rebuilt size or shrink, never hold a wrong order).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table knowledge.frequent_lexeme_terms (
      lexeme text primary key,
      matches integer not null,
      refreshed_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`
    create table knowledge.frequent_lexemes (
      lexeme text not null,
      entry_id uuid not null,
      rank real not null,
      primary key (lexeme, entry_id)
    )
  `.execute(db);
  await sql`create unique index frequent_lexemes_order_idx on knowledge.frequent_lexemes (lexeme, rank desc, entry_id)`.execute(
    db,
  );
  await sql`create index frequent_lexemes_entry_idx on knowledge.frequent_lexemes (entry_id)`.execute(db);

  // One function for the three statement-level triggers (transition tables are per event).
  await sql`
    create function knowledge.frequent_lexemes_sync() returns trigger
    language plpgsql as $fn$
    begin
      if not exists (select 1 from knowledge.frequent_lexeme_terms) then
        return null;
      end if;
      if tg_op in ('DELETE', 'UPDATE') then
        delete from knowledge.frequent_lexemes f using old_rows o where f.entry_id = o.id;
      end if;
      if tg_op in ('INSERT', 'UPDATE') then
        insert into knowledge.frequent_lexemes (lexeme, entry_id, rank)
        select candidate.lexeme, candidate.id, candidate.rank
          from (
            select t.lexeme, n.id,
                   ts_rank(n.search, ('''' || replace(t.lexeme, '''', '''''') || '''')::tsquery) as rank
              from new_rows n
              cross join lateral unnest(tsvector_to_array(n.search)) as l(lexeme)
              join knowledge.frequent_lexeme_terms t on t.lexeme = l.lexeme
          ) candidate
          cross join lateral (
            select f.rank, f.entry_id from knowledge.frequent_lexemes f
             where f.lexeme = candidate.lexeme
             order by f.rank asc, f.entry_id desc
             limit 1
          ) last
         where candidate.rank > last.rank or (candidate.rank = last.rank and candidate.id < last.entry_id)
        on conflict do nothing;
      end if;
      return null;
    end
    $fn$
  `.execute(db);
  await sql`
    create trigger entries_frequent_lexemes_insert after insert on knowledge.entries
      referencing new table as new_rows for each statement execute function knowledge.frequent_lexemes_sync()
  `.execute(db);
  await sql`
    create trigger entries_frequent_lexemes_update after update on knowledge.entries
      referencing old table as old_rows new table as new_rows for each statement execute function knowledge.frequent_lexemes_sync()
  `.execute(db);
  await sql`
    create trigger entries_frequent_lexemes_delete after delete on knowledge.entries
      referencing old table as old_rows for each statement execute function knowledge.frequent_lexemes_sync()
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists entries_frequent_lexemes_delete on knowledge.entries`.execute(db);
  await sql`drop trigger if exists entries_frequent_lexemes_update on knowledge.entries`.execute(db);
  await sql`drop trigger if exists entries_frequent_lexemes_insert on knowledge.entries`.execute(db);
  await sql`drop function if exists knowledge.frequent_lexemes_sync()`.execute(db);
  await sql`drop table if exists knowledge.frequent_lexemes`.execute(db);
  await sql`drop table if exists knowledge.frequent_lexeme_terms`.execute(db);
}
