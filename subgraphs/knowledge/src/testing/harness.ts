import { randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase, migrateAll, type TestDatabase } from '@supergraph/db';
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
import { databaseSpec, startKnowledgeSubgraph, type KnowledgeDeps, type RunningSubgraph } from '../server.ts';

/** A GraphQL response as the subgraph sends it. */
export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export function userIdentity(options: { id?: string; tier?: Tier; admin?: boolean; clientIp?: string } = {}): Identity {
  const roles = options.admin ? (['user', 'admin'] as const) : (['user'] as const);
  return {
    userId: options.id ?? randomUUID(),
    roles: [...roles],
    scopes: scopesForRoles(loadScopeCatalog(), [...roles]),
    tier: options.tier ?? 'free',
    via: 'jwt',
    ...(options.clientIp ? { clientIp: options.clientIp } : {}),
  };
}

export function anonymousIdentity(
  clientIp = `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
): Identity {
  return { userId: null, roles: [], scopes: [], tier: 'free', via: 'anonymous', clientIp };
}

export interface KnowledgeHarness {
  database: TestDatabase;
  redis: Redis;
  running: RunningSubgraph;
  privateKey: Awaited<ReturnType<typeof importInternalSigningKey>>;
  /** The gateway public key as PEM (for a second subgraph process). */
  publicKeyPem: string;
  /** Rate-limit key prefix unique to this harness (tests share one Redis). */
  rateLimitPrefix: string;
  /** SQL statements executed by the subgraph since start (or the last reset). */
  queries: { count: number };
  call<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    identity?: Identity,
    url?: string,
  ): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

/**
 * A migrated throw-away database (real PostgreSQL when DATABASE_URL is set,
 * PGlite otherwise), Redis (REDIS_URL or ioredis-mock) and the subgraph on
 * port 0, called over HTTP the way the gateway calls it.
 */
export async function startHarness(
  overrides: Partial<Omit<KnowledgeDeps, 'target' | 'internalTokenKey'>> = {},
): Promise<KnowledgeHarness> {
  const database = await createTestDatabase(process.env['DATABASE_URL']);
  await migrateAll(database.target, [databaseSpec]);
  const redis = await createRedis(process.env['REDIS_URL']);
  const pems = generateInternalKeyPair();
  const privateKey = await importInternalSigningKey(pems.privateKeyPem);
  const publicKey = await importInternalVerifyKey(pems.publicKeyPem);
  const rateLimitPrefix = `test:${randomBytes(6).toString('hex')}:rl:`;
  const queries = { count: 0 };
  const running = await startKnowledgeSubgraph(
    {
      target: database.target,
      internalTokenKey: publicKey,
      redis,
      onQuery: () => void queries.count++,
      ...overrides,
      rateLimits: { prefix: rateLimitPrefix, ...overrides.rateLimits },
    },
    0,
  );
  return {
    database,
    redis,
    running,
    privateKey,
    publicKeyPem: pems.publicKeyPem,
    rateLimitPrefix,
    queries,
    async call(query, variables = {}, identity = userIdentity(), url = running.url) {
      const token = await signInternalToken(identity, 'knowledge', privateKey);
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
      return { status: response.status, ...body } as GraphQLResponse<never>;
    },
    async close() {
      await running.stop();
      const keys = await redis.keys(`${rateLimitPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await database.drop();
    },
  };
}
