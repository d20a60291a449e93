import type { DatabaseTarget, TestDatabase } from '@supergraph/db';
import type { Identity, Redis, Tier } from '@supergraph/platform';
import {
  anonymousIdentity,
  startTestServices,
  subgraphClient,
  userIdentity as sharedUserIdentity,
  type GraphQLResponse,
  type TestServices,
} from '@supergraph/testing';
import { databaseSpec, startKnowledgeSubgraph, type KnowledgeDeps, type RunningSubgraph } from '../server.ts';

export type { GraphQLResponse };
export { anonymousIdentity };

export function userIdentity(options: { id?: string; tier?: Tier; admin?: boolean; clientIp?: string } = {}): Identity {
  return sharedUserIdentity(options);
}

export interface KnowledgeHarness {
  services: TestServices;
  /** The admin side of the test database (seeding, assertions). */
  database: TestDatabase;
  /** Where the subgraph runs: as `supergraph_knowledge` on PostgreSQL (like service mode), the PGlite otherwise. */
  target: DatabaseTarget;
  redis: Redis;
  running: RunningSubgraph;
  privateKey: TestServices['keys']['signingKey'];
  /** The gateway public key as PEM (for a second subgraph process). */
  publicKeyPem: string;
  /** Rate-limit key prefix unique to this harness (tests share one Redis); deleted on close. */
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
 * The knowledge subgraph on port 0 over the shared test services (a migrated
 * throw-away database, Redis, the gateway's keys), logged in as its own role
 * on PostgreSQL, called over HTTP the way the gateway calls it.
 */
export async function startHarness(
  overrides: Partial<Omit<KnowledgeDeps, 'target' | 'internalTokenKey'>> = {},
): Promise<KnowledgeHarness> {
  const services = await startTestServices([databaseSpec]);
  const target = services.targetFor(databaseSpec);
  const rateLimitPrefix = services.rateLimitPrefix('knowledge');
  const queries = { count: 0 };
  let running: RunningSubgraph;
  try {
    running = await startKnowledgeSubgraph(
      {
        target,
        internalTokenKey: services.keys.verifyKey,
        redis: services.redis,
        onQuery: () => void queries.count++,
        ...overrides,
        rateLimits: { prefix: rateLimitPrefix, ...overrides.rateLimits },
      },
      0,
    );
  } catch (error) {
    await services.close();
    throw error;
  }
  const client = subgraphClient({ url: running.url, audience: 'knowledge', signingKey: services.keys.signingKey });
  return {
    services,
    database: services.database,
    target,
    redis: services.redis,
    running,
    privateKey: services.keys.signingKey,
    publicKeyPem: services.keys.publicKeyPem,
    rateLimitPrefix,
    queries,
    call<T>(query: string, variables: Record<string, unknown> = {}, identity = userIdentity(), url = running.url) {
      return client.call<T>(query, variables, identity, { url });
    },
    async close() {
      await running.stop();
      await services.close();
    },
  };
}
