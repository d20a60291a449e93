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
import { generateSigningJwk, subscribeToRevocations, createRedisRevocationPublisher } from '@supergraph/platform';
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
  gateway: RunningGateway;
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResult>;
  /** Registers and signs in a fresh user through the gateway. */
  signUp(prefix?: string): Promise<{ userId: string; username: string; password: string; accessToken: string }>;
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

const ADMIN = 'chat_admin';
const ADMIN_PASSWORD = 'Correct-Horse-9-Battery';

/**
 * The whole graph for chat tests: real auth, knowledge, storage-units and
 * conversation subgraphs, each as its own role on a fresh database (real
 * PostgreSQL and Redis in CI), composed from the repo's SDLs, behind the real
 * gateway on a port chosen first so the conversation subgraph's retrieval can
 * call it.
 */
export async function startChatStack(options: ChatStackOptions = {}): Promise<ChatStack> {
  const services = await startTestServices(
    [authDatabaseSpec, knowledgeDatabaseSpec, storageDatabaseSpec, conversationDatabaseSpec],
    options.database ? { database: options.database } : {},
  );
  const stoppers: Array<() => Promise<void>> = [() => services.close()];
  const stop = async () => {
    for (const stopper of stoppers.reverse())
      await stopper().catch((error: unknown) => console.error('[chat-stack] stop failed', error));
    stoppers.length = 0;
  };
  try {
    const verifyKey = services.keys.verifyKey;
    const redis = services.redis;
    const config = await defaultAuthConfig({
      signingKeys: [await generateSigningJwk()],
      issuer: ISSUER,
      audience: AUDIENCE,
      bootstrapAdmin: ADMIN,
    });
    const auth = await startAuthSubgraph(
      {
        target: services.targetFor(authDatabaseSpec),
        internalTokenKey: verifyKey,
        config,
        redis,
        rateLimits: { prefix: services.rateLimitPrefix('auth'), disabled: true },
        revocations: createRedisRevocationPublisher(redis, { prefix: services.keyPrefix }),
      },
      0,
    );
    stoppers.push(() => auth.stop());
    const knowledge = await startKnowledgeSubgraph(
      {
        target: services.targetFor(knowledgeDatabaseSpec),
        internalTokenKey: verifyKey,
        redis,
        rateLimits: { prefix: services.rateLimitPrefix('knowledge') },
      },
      0,
    );
    stoppers.push(() => knowledge.stop());
    const storage = await startStorageUnitsSubgraph(
      {
        target: services.targetFor(storageDatabaseSpec),
        internalTokenKey: verifyKey,
        redis,
        rateLimits: { prefix: services.rateLimitPrefix('storage-units') },
      },
      0,
    );
    stoppers.push(() => storage.stop());

    const gatewayPort = await freePort();
    const startConversationInstance = async (overrides: Partial<ConversationDeps> = {}) => {
      const instance = await startConversationSubgraph(
        {
          target: services.targetFor(conversationDatabaseSpec),
          internalTokenKey: verifyKey,
          redis,
          rateLimits: { prefix: services.rateLimitPrefix('conversation') },
          streamPrefix: `${services.keyPrefix}conversation:`,
          ...options.conversation,
          ...overrides,
          settings: {
            gatewayUrl: `http://127.0.0.1:${gatewayPort}/graphql`,
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

    const revocations = await subscribeToRevocations(redis, { prefix: services.keyPrefix });
    stoppers.push(() => revocations.close());
    const gateway = await startGateway(
      {
        supergraphSdl: composeSupergraph(),
        internalTokenKey: services.keys.signingKey,
        auth: { issuer: ISSUER, audience: AUDIENCE },
        subgraphUrls: {
          auth: auth.url,
          knowledge: knowledge.url,
          'storage-units': storage.url,
          conversation: conversation.url,
        },
        corsOrigins: [CHAT_ALLOWED_ORIGIN],
        revocations,
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
    let adminToken: string | undefined;
    const addKnowledge: ChatStack['addKnowledge'] = async (entries) => {
      if (!adminToken) {
        const registered = await gql(REGISTER, {
          input: { username: ADMIN, email: `${ADMIN}@example.test`, password: ADMIN_PASSWORD },
        });
        if (registered.body.errors) throw new Error(`admin register failed: ${JSON.stringify(registered.body.errors)}`);
        adminToken = (await signIn(ADMIN, ADMIN_PASSWORD)).accessToken;
      }
      const result = await gql(
        'mutation Add($inputs: [KnowledgeInput!]!) { ingestKnowledgeBatch(inputs: $inputs) { id } }',
        { inputs: entries },
        { authorization: `Bearer ${adminToken}` },
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
      gateway,
      gql,
      signUp,
      addKnowledge,
      startConversationInstance,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
