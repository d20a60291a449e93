import type { Kysely } from 'kysely';
import type { AuthDb, ProviderKeyRow } from './auth.table.ts';
import { openProviderKey, sealProviderKey, type ProviderKeySecret } from './provider-key-cipher.ts';
import { deleteProviderKey, findProviderKey, upsertProviderKey } from './provider-keys.repository.ts';
import { validateProviderKey, validateProviderName } from './validation.ts';

/**
 * Stores `key` for the user's `provider`, encrypted under the newest secret
 * with the owner bound in as AAD. One statement (an upsert), so no transaction.
 */
export async function setProviderKey(
  db: Kysely<AuthDb>,
  secrets: readonly ProviderKeySecret[],
  userId: string,
  input: { provider: string; key: string },
): Promise<ProviderKeyRow> {
  const provider = validateProviderName(input.provider);
  const key = validateProviderKey(input.key);
  const sealed = sealProviderKey(secrets, { userId, provider }, key);
  return upsertProviderKey(db, { userId, provider, sealed, last4: key.slice(-4) });
}

export async function removeProviderKey(db: Kysely<AuthDb>, userId: string, provider: string): Promise<boolean> {
  return deleteProviderKey(db, userId, validateProviderName(provider));
}

/** The user's key for `provider` in plain text, or null when they stored none. Only `/internal/grants` calls it. */
export async function revealProviderKey(
  db: Kysely<AuthDb>,
  secrets: readonly ProviderKeySecret[],
  userId: string,
  provider: string,
): Promise<string | null> {
  const row = await findProviderKey(db, userId, provider);
  if (!row) return null;
  return openProviderKey(
    secrets,
    { userId, provider },
    // PGlite hands bytea back as Uint8Array, pg as Buffer.
    {
      ciphertext: Buffer.from(row.ciphertext),
      iv: Buffer.from(row.iv),
      authTag: Buffer.from(row.auth_tag),
      keyVersion: row.key_version,
    },
  );
}
