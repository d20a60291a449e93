import { sql, type Kysely } from 'kysely';

/**
 * Droids, conversations and their messages.
 *
 * Every row carries `owner_id` so each read filters by it without a join.
 * Orderings use identity columns (`position`, `activity`) instead of
 * timestamps: a user message and its reply are inserted in one transaction
 * and share `now()`, and a bigint keyset needs no tie-breaker.
 * `lease_expires_at` is set while a reply is `STREAMING` and renewed by the
 * instance generating it; the sweeper fails rows whose lease ran out.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table conversation.droids (
      id uuid primary key default gen_random_uuid(),
      position bigint generated always as identity unique,
      owner_id uuid not null,
      name text not null check (char_length(name) between 1 and 100),
      persona text not null default '' check (char_length(persona) <= 4000),
      knowledge_base boolean not null default true,
      storage_units text[] not null default '{}' check (cardinality(storage_units) <= 7),
      provider text not null default 'GROUNDED' check (provider in ('GROUNDED', 'OPENAI_COMPATIBLE')),
      base_url text check (char_length(base_url) <= 500),
      model text check (char_length(model) between 1 and 200),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index droids_owner_idx on conversation.droids (owner_id, position desc)`.execute(db);

  await sql`create sequence conversation.activity_seq`.execute(db);
  await sql`
    create table conversation.conversations (
      id uuid primary key default gen_random_uuid(),
      owner_id uuid not null,
      droid_id uuid not null references conversation.droids (id) on delete cascade,
      title text check (char_length(title) between 1 and 200),
      activity bigint not null default nextval('conversation.activity_seq'),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index conversations_owner_idx on conversation.conversations (owner_id, activity desc)`.execute(db);
  await sql`create index conversations_droid_idx on conversation.conversations (droid_id)`.execute(db);

  await sql`
    create table conversation.messages (
      id uuid primary key default gen_random_uuid(),
      position bigint generated always as identity unique,
      conversation_id uuid not null references conversation.conversations (id) on delete cascade,
      owner_id uuid not null,
      droid_id uuid references conversation.droids (id) on delete cascade,
      role text not null check (role in ('USER', 'ASSISTANT')),
      status text not null check (status in ('STREAMING', 'COMPLETE', 'FAILED')),
      content text not null default '',
      delta_count integer not null default 0,
      failure_reason text,
      citations uuid[] not null default '{}',
      record_citations text[] not null default '{}',
      lease_expires_at timestamptz,
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      check ((status = 'STREAMING') = (lease_expires_at is not null))
    )
  `.execute(db);
  await sql`create index messages_conversation_idx on conversation.messages (conversation_id, position desc)`.execute(
    db,
  );
  await sql`create index messages_lease_idx on conversation.messages (lease_expires_at) where status = 'STREAMING'`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists conversation.messages`.execute(db);
  await sql`drop table if exists conversation.conversations`.execute(db);
  await sql`drop sequence if exists conversation.activity_seq`.execute(db);
  await sql`drop table if exists conversation.droids`.execute(db);
}
