import { databaseSpec as authDatabaseSpec, defaultAuthConfig, startAuthSubgraph } from '@supergraph/auth';
import type { TestDatabase } from '@supergraph/db';
import {
  databaseSpec as conversationDatabaseSpec,
  startConversationSubgraph,
  type ConversationDeps,
  type RunningConversation,
} from '@supergraph/conversation';
import { startGateway, type GatewayOptions, type RunningGateway } from '@supergraph/gateway';
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

/** Where browsers may come from in chat-stack tests (the page's own origin is added when it is served). */
export const CHAT_ALLOWED_ORIGIN = 'http://app.allowed.test';

export interface ChatStack {
  services: TestServices;
  auth: RunningSubgraph;
  knowledge: RunningSubgraph;
  storage: RunningSubgraph;
  conversation: RunningConversation;
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
  /** Adds knowledge entries as the bootstrap admin (one batch, no rate limit). */
  addKnowledge(entries: ReadonlyArray<{ title: string; body: string; topic?: string }>): Promise<string[]>;
  /** A second conversation instance on the same database and Redis (two-instance fan-out). */
  startConversationInstance(overrides?: Partial<ConversationDeps>): Promise<RunningConversation>;
  stop(): Promise<void>;
}

export interface ChatStackOptions {
  /** Run on this database (e.g. one restored from a backup) instead of a fresh one; dropped at stop. */
  database?: TestDatabase;
  gateway?: Partial<GatewayOptions>;
  conversation?: Partial<ConversationDeps>;
}

const ADMIN = 'stack_admin';
const ADMIN_PASSWORD = 'Correct-Horse-9-Battery';

/**
 * The whole graph for end-to-end tests: every subgraph (auth, knowledge,
 * storage-units, conversation, operations) as its own role on a fresh
 * database (real PostgreSQL and Redis in CI), composed from the repo's SDLs,
 * behind the real gateway, which follows the live settings and records usage;
 * every Redis name under the run's prefix. Ports are chosen first where one
 * service must know another's (conversation's retrieval calls the gateway,
 * operations watches everything).
 */
export async function startChatStack(options: ChatStackOptions = {}): Promise<ChatStack> {
  const services = await startTestServices(
    [authDatabaseSpec, knowledgeDatabaseSpec, storageDatabaseSpec, conversationDatabaseSpec, operationsDatabaseSpec],
    options.database ? { database: options.database } : {},
  );
  const stoppers: Array<() => Promise<void>> = [() => services.close()];
  const stop = async () => {
    for (const stopper of stoppers.reverse())
      await stopper().catch((error: unknown) => console.error('[chat-stack] stop failed', error));
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
    const startConversationInstance = async (overrides: Partial<ConversationDeps> = {}) => {
      const instance = await startConversationSubgraph(
        {
          ...subgraphDeps('conversation', conversationDatabaseSpec),
          streamPrefix: `${redisPrefix}conversation:`,
          ...options.conversation,
          ...overrides,
          settings: {
            gatewayUrl,
            authUrl: new URL(auth.url).origin,
            ...options.conversation?.settings,
            ...overrides.settings,
          },
        },
        0,
      );
      stoppers.push(() => instance.stop());
      return instance;
    };
    const conversation = await startConversationInstance();

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
        corsOrigins: [CHAT_ALLOWED_ORIGIN],
        revocations,
        settings: gatewaySettings,
        usage,
        ...options.gateway,
      },
      gatewayPort,
    );
    stoppers.push(() => gateway.stop());

    const gql: ChatStack['gql'] = (query, variables, headers) =>
      postGraphQL(gateway.url, { query, ...(variables ? { variables } : {}) }, headers);
    const signIn = async (usernameOrEmail: string, password: string) => {
      const result = await gql(LOGIN, { input: { usernameOrEmail, password } });
      const login = result.body.data?.['login'] as { accessToken: string; user: { id: string } } | undefined;
      if (!login) throw new Error(`login failed: ${JSON.stringify(result.body.errors)}`);
      return login;
    };
    const signUp: ChatStack['signUp'] = async (prefix = 'chat') => {
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
    let adminToken: Promise<string> | undefined;
    const admin = () =>
      (adminToken ??= (async () => {
        const registered = await gql(REGISTER, {
          input: { username: ADMIN, email: `${ADMIN}@example.test`, password: ADMIN_PASSWORD },
        });
        // A stack on a restored database already has its admin: then signing in is enough.
        return (
          await signIn(ADMIN, ADMIN_PASSWORD).catch(() => {
            throw new Error(`admin register failed: ${JSON.stringify(registered.body.errors)}`);
          })
        ).accessToken;
      })());
    const addKnowledge: ChatStack['addKnowledge'] = async (entries) => {
      const result = await gql(
        'mutation Add($inputs: [KnowledgeInput!]!) { ingestKnowledgeBatch(inputs: $inputs) { id } }',
        { inputs: entries },
        { authorization: `Bearer ${await admin()}` },
      );
      const added = result.body.data?.['ingestKnowledgeBatch'] as Array<{ id: string }> | undefined;
      if (!added) throw new Error(`ingest failed: ${JSON.stringify(result.body.errors)}`);
      return added.map((entry) => entry.id);
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
      addKnowledge,
      startConversationInstance,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
