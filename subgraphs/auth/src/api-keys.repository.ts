import { sql, type Kysely, type Transaction } from 'kysely';
import type { Role, Tier } from '@supergraph/platform';
import type { ApiKeyRow, AuthDb } from './auth.table.ts';

export async function insertApiKey(
  trx: Transaction<AuthDb>,
  key: { userId: string; name: string; prefix: string; keyHash: string; scopes: readonly string[] },
): Promise<ApiKeyRow> {
  return trx
    .insertInto('api_keys')
    .values({ user_id: key.userId, name: key.name, prefix: key.prefix, key_hash: key.keyHash, scopes: [...key.scopes] })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function countActiveApiKeys(db: Kysely<AuthDb>, userId: string): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function listApiKeys(db: Kysely<AuthDb>, userId: string): Promise<ApiKeyRow[]> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
}

/** The key `id` if it belongs to `userId` (another user's key is indistinguishable from a missing one). */
export async function findOwnApiKey(db: Kysely<AuthDb>, userId: string, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
}

/** {@link findOwnApiKey}, locking the row until the transaction ends. */
export async function lockOwnApiKey(
  trx: Transaction<AuthDb>,
  userId: string,
  id: string,
): Promise<ApiKeyRow | undefined> {
  return trx
    .selectFrom('api_keys')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
}

export async function revokeApiKey(db: Kysely<AuthDb>, userId: string, id: string): Promise<ApiKeyRow | undefined> {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .returningAll()
    .executeTakeFirst();
}

export async function revokeAllApiKeys(trx: Transaction<AuthDb>, userId: string): Promise<number> {
  const rows = await trx
    .updateTable('api_keys')
    .set({ revoked_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .returning('id')
    .execute();
  return rows.length;
}

export interface ActiveApiKeyOwner {
  keyId: string;
  scopes: string[];
  lastUsedAt: Date | null;
  userId: string;
  role: Role;
  tier: Tier;
}

/** The unrevoked key with this hash whose user is active. */
export async function findActiveApiKeyByHash(
  db: Kysely<AuthDb>,
  keyHash: string,
): Promise<ActiveApiKeyOwner | undefined> {
  return db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id as keyId',
      'api_keys.scopes',
      'api_keys.last_used_at as lastUsedAt',
      'users.id as userId',
      'users.role',
      'users.tier',
    ])
    .where('api_keys.key_hash', '=', keyHash)
    .where('api_keys.revoked_at', 'is', null)
    .where('users.is_active', '=', true)
    .executeTakeFirst();
}

/** Records use at most once a minute per key. */
export async function touchApiKey(db: Kysely<AuthDb>, keyId: string): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: sql<Date>`now()` })
    .where('id', '=', keyId)
    .where((eb) =>
      eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`)]),
    )
    .execute();
}
