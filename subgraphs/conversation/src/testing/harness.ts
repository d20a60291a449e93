import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse, subscribe, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { DatabaseTarget } from '@supergraph/db';
import { enforceAuthDirectives } from '@supergraph/kit';
import type { Identity } from '@supergraph/platform';
import {
  deadUrl,
  startTestServices,
  subgraphClient,
  userIdentity,
  type GraphQLResponse,
  type SubgraphClient,
  type TestServices,
} from '@supergraph/testing';
import type { ConversationContext } from '../context.ts';
import { resolvers } from '../resolvers/index.ts';
import {
  contextFor,
  databaseSpec,
  startConversationSubgraph,
  typeDefs,
  type ConversationApp,
  type ConversationDeps,
  type RunningConversation,
} from '../server.ts';

export type { GraphQLResponse };
export { userIdentity };

export interface ConversationHarness {
  services: TestServices;
  target: DatabaseTarget;
  running: RunningConversation;
  app: ConversationApp;
  client: SubgraphClient;
  /** The stream prefix of this harness in the run's Redis key space. */
  streamPrefix: string;
  call<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    identity?: Identity | null,
  ): Promise<GraphQLResponse<T>>;
  /** Subscribes in process over the subgraph's own schema and app (the transport is kit's job). */
  subscribe(
    query: string,
    variables: Record<string, unknown>,
    identity: Identity,
  ): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
  close(): Promise<void>;
}

/**
 * The conversation subgraph on port 0 over the shared test services, with
 * retrieval and grants pointed at dead URLs (nothing found, fast) unless the
 * test says otherwise.
 */
export async function startHarness(
  overrides: Partial<Omit<ConversationDeps, 'target' | 'internalTokenKey'>> = {},
): Promise<ConversationHarness> {
  const services = await startTestServices([databaseSpec]);
  const target = services.targetFor(databaseSpec);
  const streamPrefix = `${services.keyPrefix}conversation:`;
  let running: RunningConversation;
  try {
    const dead = await deadUrl();
    running = await startConversationSubgraph(
      {
        target,
        internalTokenKey: services.keys.verifyKey,
        redis: services.redis,
        streamPrefix,
        ...overrides,
        settings: { gatewayUrl: dead, authUrl: new URL(dead).origin, ...overrides.settings },
        rateLimits: { prefix: services.rateLimitPrefix('conversation'), ...overrides.rateLimits },
      },
      0,
    );
  } catch (error) {
    await services.close();
    throw error;
  }
  const client = subgraphClient({ url: running.url, audience: 'conversation', signingKey: services.keys.signingKey });
  let schema: GraphQLSchema | undefined;
  return {
    services,
    target,
    running,
    app: running.app,
    client,
    streamPrefix,
    call<T>(query: string, variables: Record<string, unknown> = {}, identity: Identity | null = userIdentity()) {
      return client.call<T>(query, variables, identity);
    },
    subscribe(query, variables, identity) {
      schema ??= enforceAuthDirectives(
        buildSubgraphSchema([{ typeDefs, resolvers: resolvers as GraphQLResolverMap<ConversationContext> }]),
      );
      return subscribe({
        schema,
        document: parse(query),
        variableValues: variables,
        contextValue: contextFor(running.app, { identity, requestId: 'test', internalToken: '' }),
      });
    },
    async close() {
      await running.stop();
      await services.close();
    },
  };
}

/** Polls `check` until it returns a value (not undefined), failing after `timeoutMs` (generous: never a timing test). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
