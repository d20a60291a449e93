import type { ColumnType, Insertable, Selectable } from 'kysely';
import type { TablesMatch } from '@supergraph/db';
import type { OperationsSchema } from './generated/db.ts';

/** `bigint`: PostgreSQL and PGlite both hand `int8` back as a string. */
type BigintColumn = ColumnType<string, string | number, string | number>;

/** `operations.settings`: one row per setting ever changed; absent keys hold their default. */
export interface SettingsTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  version: BigintColumn;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  updated_by: string | null;
}

/** `operations.audit_events`: one row per event id (producers' uuid). */
export interface AuditEventsTable {
  id: string;
  at: ColumnType<Date, Date | string, Date | string>;
  type: string;
  service: string;
  actor_id: string | null;
  subject_id: string | null;
  ip: string | null;
  outcome: 'success' | 'failure';
  details: ColumnType<Record<string, string | number | boolean | null>, string, string>;
}

/** `operations.usage_records`: one row per request through the gateway. */
export interface UsageRecordsTable {
  id: string;
  at: ColumnType<Date, Date | string, Date | string>;
  user_id: string | null;
  operation_name: string | null;
  operation_type: 'query' | 'mutation' | 'subscription' | 'unknown';
  status: 'ok' | 'error';
  error_codes: ColumnType<string[], string[] | undefined, string[]>;
  latency_ms: number;
  subgraphs: ColumnType<string[], string[] | undefined, string[]>;
}

/** `operations.stream_offsets`: the last entry id each consumer stored, by stream key. */
export interface StreamOffsetsTable {
  stream: string;
  last_id: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface OperationsDb {
  settings: SettingsTable;
  audit_events: AuditEventsTable;
  usage_records: UsageRecordsTable;
  stream_offsets: StreamOffsetsTable;
}

export type SettingRow = Selectable<SettingsTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type NewAuditEvent = Insertable<AuditEventsTable>;
export type UsageRecordRow = Selectable<UsageRecordsTable>;
export type NewUsageRecord = Insertable<UsageRecordsTable>;

/** Fails type-checking when these hand-written tables drift from the migrations (`src/generated/db.ts`). */
export const operationsTablesMatchMigrations: TablesMatch<OperationsDb, OperationsSchema> = true;
