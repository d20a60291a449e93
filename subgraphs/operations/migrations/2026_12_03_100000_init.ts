import { sql, type Kysely } from 'kysely';

/**
 * Live settings, the audit log, usage records, and how far the consumers read
 * each Redis stream.
 *
 * `settings.version` is the snapshot version the row was written at (the
 * snapshot's version is the highest). Audit and usage rows are keyed by the
 * producer's id, so a stream entry read twice (two instances, a restart
 * before the offset was stored) inserts nothing the second time.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table operations.settings (
      key text primary key check (char_length(key) between 1 and 100),
      value jsonb not null,
      version bigint not null check (version > 0),
      updated_at timestamptz not null default now(),
      updated_by uuid
    )
  `.execute(db);

  await sql`
    create table operations.audit_events (
      id uuid primary key,
      at timestamptz not null,
      type text not null check (char_length(type) between 1 and 100),
      service text not null check (char_length(service) between 1 and 100),
      actor_id text check (char_length(actor_id) <= 200),
      subject_id text check (char_length(subject_id) <= 200),
      ip text check (char_length(ip) <= 100),
      outcome text not null check (outcome in ('success', 'failure')),
      details jsonb not null default '{}'
    )
  `.execute(db);
  await sql`create index audit_events_at_idx on operations.audit_events (at desc, id desc)`.execute(db);
  await sql`create index audit_events_type_idx on operations.audit_events (type, at desc)`.execute(db);
  await sql`create index audit_events_actor_idx on operations.audit_events (actor_id, at desc)`.execute(db);
  await sql`create index audit_events_subject_idx on operations.audit_events (subject_id, at desc)`.execute(db);

  await sql`
    create table operations.usage_records (
      id text primary key check (char_length(id) between 1 and 100),
      at timestamptz not null,
      user_id text check (char_length(user_id) <= 200),
      operation_name text check (char_length(operation_name) <= 200),
      operation_type text not null check (operation_type in ('query', 'mutation', 'subscription', 'unknown')),
      status text not null check (status in ('ok', 'error')),
      error_codes text[] not null default '{}',
      latency_ms double precision not null check (latency_ms >= 0),
      subgraphs text[] not null default '{}'
    )
  `.execute(db);
  await sql`create index usage_records_at_idx on operations.usage_records (at)`.execute(db);
  await sql`create index usage_records_user_idx on operations.usage_records (user_id, at)`.execute(db);

  await sql`
    create table operations.stream_offsets (
      stream text primary key,
      last_id text not null,
      updated_at timestamptz not null default now()
    )
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists operations.stream_offsets`.execute(db);
  await sql`drop table if exists operations.usage_records`.execute(db);
  await sql`drop table if exists operations.audit_events`.execute(db);
  await sql`drop table if exists operations.settings`.execute(db);
}
