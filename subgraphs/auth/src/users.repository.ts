import { sql, type Kysely, type Transaction } from 'kysely';
import type { Role, Tier } from '@supergraph/platform';
import type { AuthDb, NewUser, UserRow } from './auth.table.ts';

export async function findUserById(db: Kysely<AuthDb>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUsersByIds(db: Kysely<AuthDb>, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('users').selectAll().where('id', 'in', ids).execute();
}

/** By e-mail when the input has an `@`, else by username (case-insensitive). */
export async function findUserByLogin(db: Kysely<AuthDb>, usernameOrEmail: string): Promise<UserRow | undefined> {
  const login = usernameOrEmail.trim().toLowerCase();
  const query = db.selectFrom('users').selectAll();
  return (
    login.includes('@') ? query.where('email', '=', login) : query.where(sql<string>`lower(username)`, '=', login)
  ).executeTakeFirst();
}

/** Whether a user already has this username (ignoring case) or this (lower-cased) e-mail. */
export async function isUsernameOrEmailTaken(db: Kysely<AuthDb>, username: string, email: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where((eb) => eb.or([eb(eb.fn('lower', ['username']), '=', username.toLowerCase()), eb('email', '=', email)]))
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertUser(db: Kysely<AuthDb>, user: NewUser): Promise<UserRow> {
  return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
}

export async function hasAdmin(db: Kysely<AuthDb>): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('role', '=', 'admin').limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Locks the user row until the transaction ends (serialises per-user limits such as the API-key cap). */
export async function lockUser(trx: Transaction<AuthDb>, id: string): Promise<UserRow | undefined> {
  return trx.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateUser(
  db: Kysely<AuthDb>,
  id: string,
  changes: { role?: Role; tier?: Tier; is_active?: boolean; preferences?: string },
): Promise<UserRow | undefined> {
  return db
    .updateTable('users')
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function updatePasswordHash(trx: Transaction<AuthDb>, id: string, passwordHash: string): Promise<void> {
  await trx
    .updateTable('users')
    .set({ password_hash: passwordHash, password_changed_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

export interface UserKeyset {
  createdAt: Date;
  id: string;
}

/** One page of users in (created_at, id) order after `after`; fetches `limit` rows. */
export async function listUsers(db: Kysely<AuthDb>, limit: number, after: UserKeyset | null): Promise<UserRow[]> {
  let query = db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').limit(limit);
  if (after) {
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after.createdAt, after.id)));
  }
  return query.execute();
}

export async function countUsersByTier(db: Kysely<AuthDb>): Promise<Array<{ tier: Tier; users: number }>> {
  const rows = await db
    .selectFrom('users')
    .select(['tier', (eb) => eb.fn.countAll<string>().as('users')])
    .where('is_active', '=', true)
    .groupBy('tier')
    .execute();
  return rows.map((row) => ({ tier: row.tier, users: Number(row.users) }));
}
