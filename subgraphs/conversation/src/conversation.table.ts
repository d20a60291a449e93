import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { TablesMatch } from '@supergraph/db';
import type { ConversationSchema } from './generated/db.ts';

/** `bigint` identity columns: PostgreSQL and PGlite both hand `int8` back as a string. */
type Position = ColumnType<string, never, never>;

export type ProviderKind = 'GROUNDED' | 'OPENAI_COMPATIBLE';
export type MessageRole = 'USER' | 'ASSISTANT';
export type MessageStatus = 'STREAMING' | 'COMPLETE' | 'FAILED';

/** `conversation.droids`: one assistant configuration, owned by one user. */
export interface DroidsTable {
  id: Generated<string>;
  position: Position;
  owner_id: string;
  name: string;
  persona: ColumnType<string, string | undefined, string>;
  knowledge_base: ColumnType<boolean, boolean | undefined, boolean>;
  storage_units: ColumnType<string[], string[] | undefined, string[]>;
  provider: ColumnType<ProviderKind, ProviderKind | undefined, ProviderKind>;
  base_url: string | null;
  model: string | null;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/** `conversation.conversations`: `activity` (a sequence) orders them by last message, newest first. */
export interface ConversationsTable {
  id: Generated<string>;
  owner_id: string;
  droid_id: string;
  title: string | null;
  activity: ColumnType<string, never, string>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/**
 * `conversation.messages`. `delta_count` is how many deltas `content` holds
 * (persisted periodically while streaming); `lease_expires_at` is set exactly
 * while `STREAMING` (a check constraint says so).
 */
export interface MessagesTable {
  id: Generated<string>;
  position: Position;
  conversation_id: string;
  owner_id: string;
  droid_id: string | null;
  role: MessageRole;
  status: MessageStatus;
  content: ColumnType<string, string | undefined, string>;
  delta_count: ColumnType<number, number | undefined, number>;
  failure_reason: string | null;
  citations: ColumnType<string[], string[] | undefined, string[]>;
  record_citations: ColumnType<string[], string[] | undefined, string[]>;
  lease_expires_at: Date | null;
  created_at: ColumnType<Date, never, never>;
  completed_at: Date | null;
}

export interface ConversationDb {
  droids: DroidsTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
}

export type DroidRow = Selectable<DroidsTable>;
export type NewDroid = Insertable<DroidsTable>;
export type ConversationRow = Selectable<ConversationsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type NewMessage = Insertable<MessagesTable>;

/** Fails type-checking when these hand-written tables drift from the migrations (`src/generated/db.ts`). */
export const conversationTablesMatchMigrations: TablesMatch<ConversationDb, ConversationSchema> = true;
