import { randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase, migrateAll, urlForRole, type DatabaseTarget, type TestDatabase } from '@supergraph/db';
import { type RunningSubgraph } from '@supergraph/kit';
import {
  createRedis,
  generateInternalKeyPair,
  importInternalSigningKey,
  importInternalVerifyKey,
  INTERNAL_TOKEN_HEADER,
  loadScopeCatalog,
  scopesForRoles,
  signInternalToken,
  type Identity,
  type Redis,
  type Tier,
} from '@supergraph/platform';
import type { CryptoKey, KeyObject } from 'jose';
import { seedStorageUnits, type SeedReport } from '../seed.ts';
import { databaseSpec, startStorageUnitsSubgraph } from '../server.ts';

/** A GraphQL answer as the subgraph sends it. */
export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export function userIdentity(userId: string = randomUUID(), tier: Tier = 'free'): Identity {
  return { userId, roles: ['user'], scopes: scopesForRoles(loadScopeCatalog(), ['user']), tier, via: 'jwt' };
}

export function adminIdentity(userId: string = randomUUID()): Identity {
  return {
    userId,
    roles: ['user', 'admin'],
    scopes: scopesForRoles(loadScopeCatalog(), ['user', 'admin']),
    tier: 'enterprise',
    via: 'jwt',
  };
}

export const anonymousIdentity = (
  clientIp = `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
): Identity => ({
  userId: null,
  roles: [],
  scopes: [],
  tier: 'free',
  via: 'anonymous',
  clientIp,
});

export interface StorageUnitsHarness {
  testDb: TestDatabase;
  /** The target the subgraph runs on: the storage-units role on real PostgreSQL, the shared PGlite otherwise. */
  target: DatabaseTarget;
  subgraph: RunningSubgraph;
  seed: SeedReport;
  signingKey: CryptoKey | KeyObject;
  /** POSTs a GraphQL operation as the gateway would, with an internal token for `identity` (none when null). */
  call<T = Record<string, unknown>>(
    identity: Identity | null,
    query: string,
    variables?: Record<string, unknown>,
    audience?: string,
  ): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

/**
 * A migrated, lightly seeded database and a running subgraph on port 0:
 * real PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set, PGlite and
 * ioredis-mock otherwise. On PostgreSQL the subgraph logs in as its own role.
 */
export interface HarnessOptions {
  /** Seed records per unit (default 5). */
  seedLimit?: number;
  /** Called once per SQL statement the subgraph's resolvers execute. */
  onQuery?: () => void;
}

export async function startHarness({ seedLimit = 5, onQuery }: HarnessOptions = {}): Promise<StorageUnitsHarness> {
  const testDb = await createTestDatabase(process.env['DATABASE_URL']);
  let redis: Redis | undefined;
  let subgraph: RunningSubgraph | undefined;
  try {
    await migrateAll(testDb.target, [databaseSpec]);
    const seed = await seedStorageUnits(testDb.target, { limit: seedLimit, progress: false });
    const target: DatabaseTarget =
      testDb.target.kind === 'postgres' && testDb.url
        ? { kind: 'postgres', url: urlForRole(testDb.url, databaseSpec.role) }
        : testDb.target;
    const keys = generateInternalKeyPair();
    const signingKey = await importInternalSigningKey(keys.privateKeyPem);
    redis = await createRedis(process.env['REDIS_URL']);
    subgraph = await startStorageUnitsSubgraph(
      {
        target,
        internalTokenKey: await importInternalVerifyKey(keys.publicKeyPem),
        redis,
        // A fresh key space per run: counters of earlier runs on the shared Redis must not leak in.
        rateLimits: { prefix: `test:storage-units:${randomBytes(6).toString('hex')}:` },
        ...(onQuery ? { onQuery } : {}),
      },
      0,
    );
    const running = subgraph;
    const client = redis;
    return {
      testDb,
      target,
      subgraph: running,
      seed,
      signingKey,
      async call(identity, query, variables = {}, audience = 'storage-units') {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (identity) headers[INTERNAL_TOKEN_HEADER] = await signInternalToken(identity, audience, signingKey);
        const response = await fetch(running.url, {
          method: 'POST',
          headers,
          body: JSON.stringify({ query, variables }),
        });
        const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
        return { status: response.status, ...body } as GraphQLResponse<never>;
      },
      async stop() {
        await running.stop();
        client.disconnect();
        await testDb.drop();
      },
    };
  } catch (error) {
    await subgraph?.stop();
    redis?.disconnect();
    await testDb.drop();
    throw error;
  }
}
