import { randomBytes } from 'node:crypto';
import { argon2id, hash, verify, type HashOptions } from 'argon2';

/** OWASP's argon2id floor: 19 MiB, two passes. Configuration below it is refused. */
export const ARGON2_MIN_MEMORY_KIB = 19_456;
export const ARGON2_MIN_TIME_COST = 2;

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Burns the time of one verification when there is no user, so "no such user" and "wrong password" look alike. */
  verifyDummy(password: string): Promise<false>;
}

export function assertArgon2Params(params: Argon2Params): void {
  if (!Number.isInteger(params.memoryCost) || params.memoryCost < ARGON2_MIN_MEMORY_KIB) {
    throw new Error(`argon2 memoryCost must be at least ${ARGON2_MIN_MEMORY_KIB} KiB`);
  }
  if (!Number.isInteger(params.timeCost) || params.timeCost < ARGON2_MIN_TIME_COST) {
    throw new Error(`argon2 timeCost must be at least ${ARGON2_MIN_TIME_COST}`);
  }
}

/** argon2id with the given parameters (checked against the minimums). */
export function createPasswordHasher(params: Argon2Params): PasswordHasher {
  assertArgon2Params(params);
  const options: HashOptions = {
    type: argon2id,
    memoryCost: params.memoryCost,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  };
  let dummyHash: Promise<string> | undefined;
  return {
    hash: (password) => hash(password, options),
    verify: async (passwordHash, password) => {
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      }
    },
    verifyDummy: async (password) => {
      dummyHash ??= hash(randomBytes(32).toString('base64url'), options);
      await verify(await dummyHash, password).catch(() => false);
      return false;
    },
  };
}
