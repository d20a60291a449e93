import { sql, type Kysely } from 'kysely';
import type { AuthDb, ProviderKeyRow } from './auth.table.ts';
import type { SealedProviderKey } from './provider-key-cipher.ts';

/** Inserts or replaces the user's key for `provider`; `created_at` survives a replacement. */
export async function upsertProviderKey(
  db: Kysely<AuthDb>,
  key: { userId: string; provider: string; sealed: SealedProviderKey; last4: string },
): Promise<ProviderKeyRow> {
  const values = {
    ciphertext: key.sealed.ciphertext,
    iv: key.sealed.iv,
    auth_tag: key.sealed.authTag,
    key_version: key.sealed.keyVersion,
    last4: key.last4,
  };
  return db
    .insertInto('provider_keys')
    .values({ user_id: key.userId, provider: key.provider, ...values })
    .onConflict((conflict) =>
      conflict.columns(['user_id', 'provider']).doUpdateSet({ ...values, updated_at: sql<Date>`now()` }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listProviderKeys(db: Kysely<AuthDb>, userId: string): Promise<ProviderKeyRow[]> {
  return db.selectFrom('provider_keys').selectAll().where('user_id', '=', userId).orderBy('provider').execute();
}

export async function findProviderKey(
  db: Kysely<AuthDb>,
  userId: string,
  provider: string,
): Promise<ProviderKeyRow | undefined> {
  return db
    .selectFrom('provider_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .where('provider', '=', provider)
    .executeTakeFirst();
}

/** Whether there was a key to delete. */
export async function deleteProviderKey(db: Kysely<AuthDb>, userId: string, provider: string): Promise<boolean> {
  const result = await db
    .deleteFrom('provider_keys')
    .where('user_id', '=', userId)
    .where('provider', '=', provider)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
