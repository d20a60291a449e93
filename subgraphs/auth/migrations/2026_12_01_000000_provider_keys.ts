import { sql, type Kysely } from 'kysely';

/*
 * A user's LLM provider API keys, AES-256-GCM encrypted (never stored or
 * returned in plain text; `last4` is all a client ever sees). `key_version`
 * names the AUTH_PROVIDER_KEY_SECRETS entry that encrypted the row, so the
 * secret can be rotated without re-encrypting every row at once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table auth.provider_keys (
      user_id uuid not null references auth.users (id) on delete cascade,
      provider text not null check (provider ~ '^[a-z][a-z0-9-]{0,31}$'),
      ciphertext bytea not null,
      iv bytea not null check (octet_length(iv) = 12),
      auth_tag bytea not null check (octet_length(auth_tag) = 16),
      key_version integer not null check (key_version > 0),
      last4 text not null check (char_length(last4) = 4),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (user_id, provider)
    )
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists auth.provider_keys`.execute(db);
}
