import type { DatabaseTarget, TestDatabase } from '@supergraph/db';
import type { Identity, Redis } from '@supergraph/platform';
import {
  adminIdentity,
  startTestServices,
  subgraphClient,
  userIdentity,
  type GraphQLResponse,
  type TestServices,
} from '@supergraph/testing';
import { databaseSpec, startOperationsSubgraph, type OperationsDeps, type RunningOperations } from '../server.ts';

export type { GraphQLResponse };
export { adminIdentity, userIdentity };

export interface OperationsHarness {
  services: TestServices;
  /** The admin side of the test database (seeding, assertions). */
  database: TestDatabase;
  /** Where the subgraph runs: as `supergraph_operations` on PostgreSQL (like service mode), the PGlite otherwise. */
  target: DatabaseTarget;
  redis: Redis;
  /** The run's Redis prefix: the settings key/channel and the streams live under it. */
  prefix: string;
  running: RunningOperations;
  call<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    identity?: Identity | null,
    url?: string,
  ): Promise<GraphQLResponse<T>>;
  /** Another operations instance on the same database and Redis (restarts, two instances). */
  startInstance(overrides?: Partial<OperationsDeps>): Promise<RunningOperations>;
  close(): Promise<void>;
}

/**
 * The operations subgraph on port 0 over the shared test services (a
 * migrated throw-away database, Redis, the gateway's keys), logged in as its
 * own role on PostgreSQL, its Redis names under the run's prefix, called over
 * HTTP the way the gateway calls it.
 */
export async function startHarness(
  overrides: Partial<Omit<OperationsDeps, 'target' | 'internalTokenKey'>> = {},
): Promise<OperationsHarness> {
  const services = await startTestServices([databaseSpec]);
  const target = services.targetFor(databaseSpec);
  const instances: RunningOperations[] = [];
  const startInstance = async (more: Partial<OperationsDeps> = {}) => {
    const instance = await startOperationsSubgraph(
      {
        target,
        internalTokenKey: services.keys.verifyKey,
        redis: services.redis,
        redisPrefix: services.keyPrefix,
        targets: [],
        ...overrides,
        ...more,
        rateLimits: { prefix: services.rateLimitPrefix('operations'), ...overrides.rateLimits, ...more.rateLimits },
      },
      0,
    );
    instances.push(instance);
    return instance;
  };
  let running: RunningOperations;
  try {
    running = await startInstance();
  } catch (error) {
    await services.close();
    throw error;
  }
  const client = subgraphClient({ url: running.url, audience: 'operations', signingKey: services.keys.signingKey });
  return {
    services,
    database: services.database,
    target,
    redis: services.redis,
    prefix: services.keyPrefix,
    running,
    call<T>(
      query: string,
      variables: Record<string, unknown> = {},
      identity: Identity | null = adminIdentity(),
      url = running.url,
    ) {
      return client.call<T>(query, variables, identity, { url });
    },
    startInstance,
    async close() {
      for (const instance of instances.reverse()) await instance.stop();
      await services.close();
    },
  };
}

/** Polls `check` until it returns a value (generous bound: tests never fail on timing). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
