import type { DatabaseTarget, TestDatabase } from '@supergraph/db';
import type { RateLimiterOptions, RunningSubgraph } from '@supergraph/kit';
import type { Identity, Tier } from '@supergraph/platform';
import {
  adminIdentity as sharedAdminIdentity,
  anonymousIdentity,
  startTestServices,
  subgraphClient,
  userIdentity as sharedUserIdentity,
  type GraphQLResponse,
  type TestServices,
} from '@supergraph/testing';
import type { CryptoKey, KeyObject } from 'jose';
import { seedStorageUnits, type SeedReport } from '../seed.ts';
import { databaseSpec, startStorageUnitsSubgraph } from '../server.ts';

export type { GraphQLResponse };
export { anonymousIdentity };

export function userIdentity(userId?: string, tier: Tier = 'free'): Identity {
  return sharedUserIdentity({ ...(userId ? { id: userId } : {}), tier });
}

export function adminIdentity(userId?: string): Identity {
  return sharedAdminIdentity(userId ? { id: userId } : {});
}

export interface StorageUnitsHarness {
  services: TestServices;
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
    url?: string,
  ): Promise<GraphQLResponse<T>>;
  /** One more instance on the same database and Redis, e.g. with other limits (stopped by {@link stop}). */
  startServer(rateLimits?: Omit<RateLimiterOptions, 'redis'>): Promise<RunningSubgraph>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Seed records per unit (default 5). */
  seedLimit?: number;
  /** Called once per SQL statement the subgraph's resolvers execute. */
  onQuery?: () => void;
}

/**
 * A migrated, lightly seeded database and a running subgraph on port 0 over
 * the shared test services: real PostgreSQL + Redis when DATABASE_URL /
 * REDIS_URL are set, PGlite and the in-process Redis otherwise. On PostgreSQL
 * the subgraph logs in as its own role.
 */
export async function startHarness({ seedLimit = 5, onQuery }: HarnessOptions = {}): Promise<StorageUnitsHarness> {
  const services = await startTestServices([databaseSpec]);
  const target = services.targetFor(databaseSpec);
  const servers: RunningSubgraph[] = [];
  const stop = async () => {
    for (const server of servers.reverse()) await server.stop();
    await services.close();
  };
  try {
    const seed = await seedStorageUnits(services.database.target, { limit: seedLimit, progress: false });
    const startServer = async (rateLimits: Omit<RateLimiterOptions, 'redis'> = {}) => {
      const server = await startStorageUnitsSubgraph(
        {
          target,
          internalTokenKey: services.keys.verifyKey,
          redis: services.redis,
          // A fresh key space per server: counters of other servers and runs must not leak in.
          rateLimits: { prefix: services.rateLimitPrefix(`storage-units:${servers.length}`), ...rateLimits },
          ...(onQuery ? { onQuery } : {}),
        },
        0,
      );
      servers.push(server);
      return server;
    };
    const subgraph = await startServer();
    const client = subgraphClient({
      url: subgraph.url,
      audience: 'storage-units',
      signingKey: services.keys.signingKey,
    });
    return {
      services,
      testDb: services.database,
      target,
      subgraph,
      seed,
      signingKey: services.keys.signingKey,
      call<T>(
        identity: Identity | null,
        query: string,
        variables: Record<string, unknown> = {},
        audience = 'storage-units',
        url = subgraph.url,
      ) {
        return client.call<T>(query, variables, identity, { audience, url });
      },
      startServer,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
