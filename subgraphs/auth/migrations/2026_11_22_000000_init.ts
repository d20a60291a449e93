import { sql, type Kysely } from 'kysely';

/*
 * Raw SQL, schema-qualified: PGlite does not put `auth` on the search_path,
 * and the check constraints / expression indexes read best as SQL.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table auth.users (
      id uuid primary key default gen_random_uuid(),
      username text not null,
      email text not null,
      password_hash text not null,
      role text not null default 'user' check (role in ('user', 'admin')),
      tier text not null default 'free' check (tier in ('free', 'pro', 'enterprise')),
      is_active boolean not null default true,
      preferences jsonb not null default '{}'::jsonb check (jsonb_typeof(preferences) = 'object'),
      -- millisecond precision so a keyset cursor round-trips through a JS Date exactly
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz not null default now(),
      password_changed_at timestamptz
    )
  `.execute(db);
  await sql`create unique index users_username_lower_key on auth.users (lower(username))`.execute(db);
  await sql`create unique index users_email_key on auth.users (email)`.execute(db);
  await sql`create index users_created_at_id_idx on auth.users (created_at, id)`.execute(db);

  await sql`
    create table auth.sessions (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references auth.users (id) on delete cascade,
      token_hash text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz,
      last_seen_at timestamptz not null default now(),
      user_agent text
    )
  `.execute(db);
  await sql`create unique index sessions_token_hash_key on auth.sessions (token_hash)`.execute(db);
  await sql`create index sessions_user_id_idx on auth.sessions (user_id)`.execute(db);

  await sql`
    create table auth.refresh_tokens (
      id uuid primary key default gen_random_uuid(),
      family_id uuid not null,
      session_id uuid not null references auth.sessions (id) on delete cascade,
      user_id uuid not null references auth.users (id) on delete cascade,
      token_hash text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz,
      revoked_at timestamptz
    )
  `.execute(db);
  await sql`create unique index refresh_tokens_token_hash_key on auth.refresh_tokens (token_hash)`.execute(db);
  await sql`create index refresh_tokens_family_id_idx on auth.refresh_tokens (family_id)`.execute(db);
  await sql`create index refresh_tokens_session_id_idx on auth.refresh_tokens (session_id)`.execute(db);
  await sql`create index refresh_tokens_user_id_idx on auth.refresh_tokens (user_id)`.execute(db);

  await sql`
    create table auth.api_keys (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references auth.users (id) on delete cascade,
      name text not null check (char_length(name) between 1 and 64),
      prefix text not null,
      key_hash text not null,
      scopes text[] not null check (cardinality(scopes) > 0),
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    )
  `.execute(db);
  await sql`create unique index api_keys_key_hash_key on auth.api_keys (key_hash)`.execute(db);
  await sql`create index api_keys_user_id_idx on auth.api_keys (user_id, created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists auth.api_keys`.execute(db);
  await sql`drop table if exists auth.refresh_tokens`.execute(db);
  await sql`drop table if exists auth.sessions`.execute(db);
  await sql`drop table if exists auth.users`.execute(db);
}
