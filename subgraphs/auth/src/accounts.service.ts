import { badUserInput, unauthenticated } from '@supergraph/platform';
import type { Kysely, Transaction } from 'kysely';
import type { AuthDb, UserRow } from './auth.table.ts';
import type { PasswordHasher } from './passwords.ts';
import { revokeSessions } from './sessions.repository.ts';
import {
  findUserById,
  hasAdmin,
  insertUser,
  isUsernameOrEmailTaken,
  updatePasswordHash,
  updateUser,
} from './users.repository.ts';
import {
  assertPasswordSize,
  validateEmail,
  validatePassword,
  validatePreferences,
  validateUsername,
} from './validation.ts';

const DUPLICATE_MESSAGE = 'username or email already registered';

/** A checked registration, its password already hashed. */
export interface Registration {
  username: string;
  email: string;
  passwordHash: string;
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/**
 * Validates a registration and hashes its password, outside any transaction
 * (argon2 is slow; no connection should wait on it). A name or address
 * already in use is BAD_USER_INPUT here already, before hashing.
 */
export async function prepareRegistration(
  db: Kysely<AuthDb>,
  passwords: PasswordHasher,
  input: { username: string; email: string; password: string },
): Promise<Registration> {
  const username = validateUsername(input.username);
  const email = validateEmail(input.email);
  const password = validatePassword(input.password);
  if (await isUsernameOrEmailTaken(db, username, email)) throw badUserInput(DUPLICATE_MESSAGE, 'input.username');
  return { username, email, passwordHash: await passwords.hash(password) };
}

/**
 * Creates the user; `bootstrapAdmin` (that username, any case) becomes admin
 * while the install has none. A concurrent registration of the same name or
 * address that won the race makes this one BAD_USER_INPUT too.
 */
export async function createAccount(
  trx: Transaction<AuthDb>,
  registration: Registration,
  bootstrapAdmin: string | undefined,
): Promise<UserRow> {
  const isBootstrapAdmin =
    bootstrapAdmin !== undefined &&
    bootstrapAdmin.toLowerCase() === registration.username.toLowerCase() &&
    !(await hasAdmin(trx));
  try {
    return await insertUser(trx, {
      username: registration.username,
      email: registration.email,
      password_hash: registration.passwordHash,
      role: isBootstrapAdmin ? 'admin' : 'user',
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw badUserInput(DUPLICATE_MESSAGE, 'input.username');
    throw error;
  }
}

/**
 * Checks a password change (the new one valid and different, the current one
 * right) and hashes the new one, outside any transaction; then
 * {@link replacePassword} stores it.
 */
export async function preparePasswordChange(
  db: Kysely<AuthDb>,
  passwords: PasswordHasher,
  userId: string,
  { currentPassword, newPassword }: { currentPassword: string; newPassword: string },
): Promise<string> {
  assertPasswordSize(currentPassword, 'currentPassword');
  validatePassword(newPassword, 'newPassword');
  if (newPassword === currentPassword)
    throw badUserInput('newPassword must differ from the current password', 'newPassword');
  const user = await findUserById(db, userId);
  if (!user?.is_active) throw unauthenticated();
  if (!(await passwords.verify(user.password_hash, currentPassword))) {
    throw badUserInput('current password is incorrect', 'currentPassword');
  }
  return passwords.hash(newPassword);
}

/** Stores a new password hash and ends every other session (`keepSessionId`, the caller's, survives). */
export async function replacePassword(
  trx: Transaction<AuthDb>,
  userId: string,
  passwordHash: string,
  keepSessionId: string | undefined,
): Promise<void> {
  await updatePasswordHash(trx, userId, passwordHash);
  await revokeSessions(trx, userId, keepSessionId ? { exceptSessionId: keepSessionId } : {});
}

/** Replaces an active user's preferences (a JSON object, checked for size and depth); UNAUTHENTICATED otherwise. */
export async function updatePreferences(db: Kysely<AuthDb>, userId: string, preferences: unknown): Promise<UserRow> {
  const value = validatePreferences(preferences);
  if (!(await findUserById(db, userId))?.is_active) throw unauthenticated();
  const user = await updateUser(db, userId, { preferences: JSON.stringify(value) });
  if (!user) throw unauthenticated();
  return user;
}
