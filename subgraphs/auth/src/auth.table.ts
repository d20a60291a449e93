import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { TablesMatch } from '@supergraph/db';
import type { Role, Tier } from '@supergraph/platform';
import type { AuthSchema } from './generated/db.ts';

/** A timestamp the database fills in (`default now()`), readable as a Date. */
type CreatedAt = ColumnType<Date, never, never>;
/** A nullable timestamp set by updates (`now()` through `sql`), never on insert. */
type SetLater = ColumnType<Date | null, never, Date | null>;

export interface UsersTable {
  id: Generated<string>;
  username: string;
  /** Always lower-cased. */
  email: string;
  password_hash: string;
  role: ColumnType<Role, Role | undefined, Role>;
  tier: ColumnType<Tier, Tier | undefined, Tier>;
  is_active: ColumnType<boolean, boolean | undefined, boolean>;
  /** jsonb; written as a JSON string. */
  preferences: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, never, Date>;
  password_changed_at: SetLater;
}

export interface SessionsTable {
  id: Generated<string>;
  user_id: string;
  /** sha256 (hex) of the session token; the token itself is never stored. */
  token_hash: string;
  created_at: CreatedAt;
  expires_at: Date;
  revoked_at: SetLater;
  last_seen_at: ColumnType<Date, never, Date>;
  user_agent: string | null;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  /** Every token rotated out of one login shares a family; reuse of a spent one revokes it all. */
  family_id: string;
  session_id: string;
  user_id: string;
  /** sha256 (hex) of the token's `jti`. */
  token_hash: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: SetLater;
  revoked_at: SetLater;
}

export interface ApiKeysTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  /** First 8 characters after `sg_`, for display. */
  prefix: string;
  /** sha256 (hex) of the whole key. */
  key_hash: string;
  scopes: string[];
  created_at: CreatedAt;
  last_used_at: SetLater;
  revoked_at: SetLater;
}

/** A user's LLM provider API key, AES-256-GCM encrypted (`provider-key-cipher.ts`); never stored in plain text. */
export interface ProviderKeysTable {
  user_id: string;
  provider: string;
  ciphertext: Buffer;
  /** 12 random bytes, fresh for every write. */
  iv: Buffer;
  /** GCM's 16-byte tag over the ciphertext and the AAD (user id + provider). */
  auth_tag: Buffer;
  /** Which `AUTH_PROVIDER_KEY_SECRETS` version encrypted it. */
  key_version: number;
  /** The key's last four characters, the only part ever shown. */
  last4: string;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, never, Date>;
}

export interface AuthDb {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  api_keys: ApiKeysTable;
  provider_keys: ProviderKeysTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type RefreshTokenRow = Selectable<RefreshTokensTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type ProviderKeyRow = Selectable<ProviderKeysTable>;

/** Fails type-checking when these hand-written tables drift from the migrations. */
export const authTablesMatchMigrations: TablesMatch<AuthDb, AuthSchema> = true;
