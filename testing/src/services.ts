import { randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  migrateAll,
  urlForRole,
  type DatabaseTarget,
  type SubgraphDatabaseSpec,
  type TestDatabase,
} from '@supergraph/db';
import {
  createRedis,
  generateInternalKeyPair,
  importInternalSigningKey,
  importInternalVerifyKey,
  type Redis,
} from '@supergraph/platform';
import type { CryptoKey, KeyObject } from 'jose';

/** The gateway's internal-token key pair of one test run. */
export interface TestKeys {
  privateKeyPem: string;
  publicKeyPem: string;
  /** Signs internal tokens (what the gateway holds). */
  signingKey: CryptoKey | KeyObject;
  /** Verifies them (what a subgraph is started with). */
  verifyKey: CryptoKey | KeyObject;
}

export interface TestServices {
  /** A fresh database: `test_<random>` on DATABASE_URL's server, an in-memory PGlite otherwise. */
  database: TestDatabase;
  /** Whether the subgraphs log in as their own roles (PostgreSQL with an admin that can create roles). */
  rolesManaged: boolean;
  /** Real Redis from REDIS_URL, the in-process stand-in otherwise (refused under SUPERGRAPH_FORBID_EMBEDDED=1). */
  redis: Redis;
  /** Every Redis key this run writes starts with it; {@link TestServices.close} deletes them all. */
  keyPrefix: string;
  keys: TestKeys;
  /** Where subgraph `spec` runs: as its own role on PostgreSQL (like service mode), the shared PGlite otherwise. */
  targetFor(spec: Pick<SubgraphDatabaseSpec, 'role'>): DatabaseTarget;
  /** A rate-limit prefix for one subgraph inside this run's key space. */
  rateLimitPrefix(subgraph: string): string;
  /** Deletes every key under {@link keyPrefix}, disconnects Redis, drops the database. */
  close(): Promise<void>;
}

/**
 * The real components a subgraph test runs on, one set per test run: a
 * migrated throw-away database, Redis, the gateway's key pair. Tests share one
 * Redis (and CI runs them against the real one), so every run writes under
 * its own `test:<random>:` prefix and removes what it wrote at teardown.
 *
 * @example
 * const services = await startTestServices([databaseSpec]);
 * const running = await startKnowledgeSubgraph({
 *   target: services.targetFor(databaseSpec), internalTokenKey: services.keys.verifyKey,
 *   redis: services.redis, rateLimits: { prefix: services.rateLimitPrefix('knowledge') },
 * }, 0);
 * // ...
 * await running.stop();
 * await services.close();
 */
export async function startTestServices(
  specs: readonly SubgraphDatabaseSpec[],
  options: {
    /** Run on this database instead of a fresh one (e.g. one restored from a backup): migrated, then dropped at close. */
    database?: TestDatabase;
  } = {},
): Promise<TestServices> {
  const database = options.database ?? (await createTestDatabase(process.env['DATABASE_URL']));
  let redis: Redis | undefined;
  try {
    const report = await migrateAll(database.target, [...specs]);
    redis = await testRedis();
    const pems = generateInternalKeyPair();
    const keys: TestKeys = {
      ...pems,
      signingKey: await importInternalSigningKey(pems.privateKeyPem),
      verifyKey: await importInternalVerifyKey(pems.publicKeyPem),
    };
    const keyPrefix = `test:${randomBytes(6).toString('hex')}:`;
    const client = redis;
    return {
      database,
      rolesManaged: report.rolesManaged,
      redis: client,
      keyPrefix,
      keys,
      targetFor(spec) {
        return database.target.kind === 'postgres' && report.rolesManaged
          ? { kind: 'postgres', url: urlForRole(database.target.url, spec.role) }
          : database.target;
      },
      rateLimitPrefix: (subgraph) => `${keyPrefix}rl:${subgraph}:`,
      async close() {
        try {
          await deleteKeys(client, keyPrefix);
        } finally {
          client.disconnect();
          await database.drop();
        }
      },
    };
  } catch (error) {
    redis?.disconnect();
    await database.drop();
    throw error;
  }
}

/** Redis for a test: REDIS_URL, else the in-process stand-in, which SUPERGRAPH_FORBID_EMBEDDED=1 refuses. */
export function testRedis(): Promise<Redis> {
  return createRedis(process.env['REDIS_URL']);
}

/** Deletes every key starting with `prefix` (SCAN, not KEYS: the shared Redis may be large). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
