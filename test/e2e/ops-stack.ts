import { databaseSpec as authDatabaseSpec, defaultAuthConfig, startAuthSubgraph } from '@supergraph/auth';
import { databaseSpec as conversationDatabaseSpec, startConversationSubgraph } from '@supergraph/conversation';
import { startGateway, type RunningGateway } from '@supergraph/gateway';
import type { RunningSubgraph } from '@supergraph/kit';
import { databaseSpec as knowledgeDatabaseSpec, startKnowledgeSubgraph } from '@supergraph/knowledge';
import {
  databaseSpec as operationsDatabaseSpec,
  serviceTargets,
  startOperationsSubgraph,
  type RunningOperations,
} from '@supergraph/operations';
import {
  createRedisRevocationPublisher,
  createUsageRecorder,
  generateSigningJwk,
  subscribeToRevocations,
  subscribeToSettings,
  type SettingsSource,
  type UsageRecorder,
} from '@supergraph/platform';
import { databaseSpec as storageDatabaseSpec, startStorageUnitsSubgraph } from '@supergraph/storage-units';
import { freePort, startTestServices, type TestServices } from '@supergraph/testing';
import { composeSupergraph } from '../../schema/compose.ts';
import { AUDIENCE, ISSUER, LOGIN, REGISTER, newUser, postGraphQL, type GraphQLResult } from './harness.ts';

export interface OpsStack {
  services: TestServices;
  auth: RunningSubgraph;
  knowledge: RunningSubgraph;
  storage: RunningSubgraph;
  conversation: RunningSubgraph;
  operations: RunningOperations;
  gateway: RunningGateway;
  /** The gateway's live settings (what its maintenance check reads). */
  gatewaySettings: SettingsSource;
  /** The gateway's usage recorder (flushes every 100 ms here). */
  usage: UsageRecorder;
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResult>;
  /** Registers and signs in a fresh user through the gateway. */
  signUp(prefix?: string): Promise<{ userId: string; username: string; password: string; accessToken: string }>;
  /** The bootstrap admin, registered and signed in through the gateway on first use. */
  adminToken(): Promise<string>;
  stop(): Promise<void>;
}

const ADMIN = 'ops_admin';
const ADMIN_PASSWORD = 'Correct-Horse-9-Battery';

/**
 * The whole graph with the operations subgraph, for issue 9's end-to-end
 * tests: every subgraph as its own role on a fresh database (real PostgreSQL
 * and Redis in CI), the Redis names of settings, audit and usage under the
 * run's prefix, the gateway following the live settings and recording usage.
 * Operations watches the services the composed supergraph names, at the URLs
 * they run at here, and the gateway (ports chosen first so each knows the
 * others).
 */
export async function startOpsStack(): Promise<OpsStack> {
  const services = await startTestServices([
    authDatabaseSpec,
    knowledgeDatabaseSpec,
    storageDatabaseSpec,
    conversationDatabaseSpec,
    operationsDatabaseSpec,
  ]);
  const stoppers: Array<() => Promise<void>> = [() => services.close()];
  const stop = async () => {
    for (const stopper of stoppers.reverse())
      await stopper().catch((error: unknown) => console.error('[ops-stack] stop failed', error));
    stoppers.length = 0;
  };
  try {
    const { redis, keyPrefix: redisPrefix } = services;
    const internalTokenKey = services.keys.verifyKey;
    const auth = await startAuthSubgraph(
      {
        target: services.targetFor(authDatabaseSpec),
        internalTokenKey,
        config: await defaultAuthConfig({
          signingKeys: [await generateSigningJwk()],
          issuer: ISSUER,
          audience: AUDIENCE,
          bootstrapAdmin: ADMIN,
        }),
        redis,
        redisPrefix,
        rateLimits: { prefix: services.rateLimitPrefix('auth'), disabled: true },
        revocations: createRedisRevocationPublisher(redis, { prefix: redisPrefix }),
      },
      0,
    );
    stoppers.push(() => auth.stop());
    const subgraphDeps = (name: string, spec: { role: string }) => ({
      target: services.targetFor(spec),
      internalTokenKey,
      redis,
      redisPrefix,
      rateLimits: { prefix: services.rateLimitPrefix(name) },
    });
    const knowledge = await startKnowledgeSubgraph(subgraphDeps('knowledge', knowledgeDatabaseSpec), 0);
    stoppers.push(() => knowledge.stop());
    const storage = await startStorageUnitsSubgraph(subgraphDeps('storage-units', storageDatabaseSpec), 0);
    stoppers.push(() => storage.stop());
    const gatewayPort = await freePort();
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
    const conversation = await startConversationSubgraph(
      {
        ...subgraphDeps('conversation', conversationDatabaseSpec),
        streamPrefix: `${redisPrefix}conversation:`,
        settings: { gatewayUrl, authUrl: new URL(auth.url).origin },
      },
      0,
    );
    stoppers.push(() => conversation.stop());

    const supergraphSdl = composeSupergraph();
    const operationsPort = await freePort();
    const subgraphUrls = {
      auth: auth.url,
      knowledge: knowledge.url,
      'storage-units': storage.url,
      conversation: conversation.url,
      operations: `http://127.0.0.1:${operationsPort}/graphql`,
    };
    const operations = await startOperationsSubgraph(
      {
        ...subgraphDeps('operations', operationsDatabaseSpec),
        // The reader the service uses over schema/supergraph.graphql, over the same composition the gateway runs.
        targets: serviceTargets(supergraphSdl, subgraphUrls, gatewayUrl),
      },
      operationsPort,
    );
    stoppers.push(() => operations.stop());

    const revocations = await subscribeToRevocations(redis, { prefix: redisPrefix });
    stoppers.push(() => revocations.close());
    const gatewaySettings = await subscribeToSettings(redis, { prefix: redisPrefix });
    stoppers.push(() => gatewaySettings.close());
    const usage = createUsageRecorder(redis, { prefix: redisPrefix, flushMs: 100 });
    stoppers.push(() => usage.close());
    const gateway = await startGateway(
      {
        supergraphSdl,
        internalTokenKey: services.keys.signingKey,
        auth: { issuer: ISSUER, audience: AUDIENCE },
        subgraphUrls,
        revocations,
        settings: gatewaySettings,
        usage,
      },
      gatewayPort,
    );
    stoppers.push(() => gateway.stop());

    const gql: OpsStack['gql'] = (query, variables, headers) =>
      postGraphQL(gateway.url, { query, ...(variables ? { variables } : {}) }, headers);
    const signIn = async (usernameOrEmail: string, password: string) => {
      const result = await gql(LOGIN, { input: { usernameOrEmail, password } });
      const login = result.body.data?.['login'] as { accessToken: string; user: { id: string } } | undefined;
      if (!login) throw new Error(`login failed: ${JSON.stringify(result.body.errors)}`);
      return login;
    };
    const signUp: OpsStack['signUp'] = async (prefix = 'ops') => {
      const input = newUser(prefix);
      const registered = await gql(REGISTER, { input });
      if (registered.body.errors) throw new Error(`register failed: ${JSON.stringify(registered.body.errors)}`);
      const login = await signIn(input.username, input.password);
      return {
        userId: login.user.id,
        username: input.username,
        password: input.password,
        accessToken: login.accessToken,
      };
    };
    let adminToken: string | undefined;
    const admin = async () => {
      if (!adminToken) {
        const registered = await gql(REGISTER, {
          input: { username: ADMIN, email: `${ADMIN}@example.test`, password: ADMIN_PASSWORD },
        });
        if (registered.body.errors) throw new Error(`admin register failed: ${JSON.stringify(registered.body.errors)}`);
        adminToken = (await signIn(ADMIN, ADMIN_PASSWORD)).accessToken;
      }
      return adminToken;
    };
    return {
      services,
      auth,
      knowledge,
      storage,
      conversation,
      operations,
      gateway,
      gatewaySettings,
      usage,
      gql,
      signUp,
      adminToken: admin,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
