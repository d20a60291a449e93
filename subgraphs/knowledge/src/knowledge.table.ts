import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { TablesMatch } from '@supergraph/db';
import type { KnowledgeSchema } from './generated/db.ts';

/** `knowledge.entries`. `search` and `title_search` are generated tsvectors: never written, rarely read. */
export interface EntriesTable {
  id: Generated<string>;
  external_id: string | null;
  title: string;
  body: ColumnType<string, string | undefined, string>;
  topic: string | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  source: string | null;
  language: ColumnType<string, string | undefined, string>;
  author_id: string | null;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
  search: ColumnType<string, never, never>;
  title_search: ColumnType<string, never, never>;
}

/** `knowledge.ingest_runs`: one row per bulk import (seed, batch mutation); `knowledgeStats.lastIngestAt` reads it. */
export interface IngestRunsTable {
  id: Generated<string>;
  source: string;
  started_at: Date;
  finished_at: ColumnType<Date, Date | undefined, never>;
  entries_seen: number;
  entries_added: number;
}

/**
 * `knowledge.frequent_lexeme_terms`: the lexemes matching more entries than the
 * capped search ranks, each with a precomputed exact top list (README, "Search at scale").
 */
export interface FrequentLexemeTermsTable {
  lexeme: string;
  matches: number;
  refreshed_at: Generated<Date>;
}

/** `knowledge.frequent_lexemes`: per frequent lexeme, its best entries by `ts_rank` (kept exact by triggers). */
export interface FrequentLexemesTable {
  lexeme: string;
  entry_id: string;
  rank: number;
}

export interface KnowledgeDb {
  entries: EntriesTable;
  frequent_lexeme_terms: FrequentLexemeTermsTable;
  frequent_lexemes: FrequentLexemesTable;
  ingest_runs: IngestRunsTable;
}

export type EntryRow = Omit<Selectable<EntriesTable>, 'search' | 'title_search'>;
export type NewEntry = Insertable<EntriesTable>;
export type EntryUpdate = Updateable<EntriesTable>;

/** Fails type-checking when these hand-written tables drift from the migrations (`src/generated/db.ts`). */
export const knowledgeTablesMatchMigrations: TablesMatch<KnowledgeDb, KnowledgeSchema> = true;
