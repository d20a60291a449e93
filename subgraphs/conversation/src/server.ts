import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import type { Kysely } from 'kysely';
import { createDatabase, type SubgraphDatabaseSpec } from '@supergraph/db';
import {
  startSubgraph,
  withRateLimits,
  type RunningSubgraph,
  type SubgraphContext,
  type SubgraphDeps,
} from '@supergraph/kit';
import { pingRedis, redisOrStandIn, type Redis } from '@supergraph/platform';
import type { ConversationContext } from './context.ts';
import type { ConversationDb } from './conversation.table.ts';
import { ReplyEngine, type Responders } from './generation/engine.ts';
import { LeaseSweeper } from './generation/lease-sweeper.ts';
import { createLoaders } from './loaders.ts';
import { responderFor, type ResponderOptions } from './responders/index.ts';
import { ResponseCache } from './response-cache.ts';
import { resolvers } from './resolvers/index.ts';
import { StreamKeys } from './streaming/events.ts';
import { EventHub } from './streaming/hub.ts';

export type { RunningSubgraph } from '@supergraph/kit';

/** What conversation owns in PostgreSQL (used by `npm run migrate` and the tests). */
export const databaseSpec: SubgraphDatabaseSpec = {
  name: 'conversation',
  role: 'supergraph_conversation',
  schemas: [{ schema: 'conversation', migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)) }],
};

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

/** Conversation's own settings (`CONVERSATION_*`, see the README). */
export interface ConversationSettings {
  /** Where retrieval searches the graph: the gateway's `/graphql`. */
  gatewayUrl: string;
  /** Auth's base URL, for `POST /internal/grants`. */
  authUrl: string;
  openaiDefaultKey: string | null;
  /** A STREAMING reply not renewed for this long is failed by the sweeper. */
  leaseSeconds: number;
  /** How often the sweeper looks for expired leases. */
  sweepIntervalMs: number;
  /** The grounded responder's pause between tokens (0: as fast as possible). */
  tokenDelayMs: number;
}

export const DEFAULT_CONVERSATION_SETTINGS: Readonly<ConversationSettings> = Object.freeze({
  gatewayUrl: 'http://127.0.0.1:4000/graphql',
  authUrl: 'http://127.0.0.1:4001',
  openaiDefaultKey: null,
  leaseSeconds: 30,
  sweepIntervalMs: 5_000,
  tokenDelayMs: 0,
});

export interface ConversationDeps extends SubgraphDeps {
  settings?: Partial<ConversationSettings>;
  /** Replaces the built responders (tests: a responder that fails, or one that waits). */
  responders?: Partial<Responders>;
  /** Prefix of the reply streams' Redis keys and channels (tests use their run's). Default `conversation:`. */
  streamPrefix?: string;
  poolMax?: number;
}

/** A running conversation subgraph, with its engine and hub (tests wait on them and count listeners). */
export interface RunningConversation extends RunningSubgraph {
  app: ConversationApp;
}

/** Everything a request context shares, one per process. */
export interface ConversationApp {
  db: Kysely<ConversationDb>;
  redis: Redis;
  hub: EventHub;
  streams: StreamKeys;
  engine: ReplyEngine;
  sweeper: LeaseSweeper;
  responseCache: ResponseCache;
  settings: ConversationSettings;
  ping(): Promise<void>;
  /** Interrupts replies in progress (stored FAILED), stops the sweeper, closes the hub, the pool and an own Redis. */
  close(): Promise<void>;
}

/** Builds the process-wide parts without an HTTP server (tests run `subscribe()` over them). */
export async function createConversationApp(deps: ConversationDeps): Promise<ConversationApp> {
  const settings: ConversationSettings = { ...DEFAULT_CONVERSATION_SETTINGS, ...deps.settings };
  const database = createDatabase<ConversationDb>(deps.target, {
    schema: 'conversation',
    poolMax: deps.poolMax ?? 10,
    statementTimeoutMs: deps.statementTimeoutMs,
  });
  const { redis, release } = await redisOrStandIn(deps.redis);
  // Under the deployment's REDIS_PREFIX like every other Redis name, unless a test gives its own.
  const streams = new StreamKeys(
    deps.streamPrefix ?? (deps.redisPrefix ? `${deps.redisPrefix}conversation:` : undefined),
  );
  const hub = new EventHub(redis);
  const responseCache = new ResponseCache();
  const options: ResponderOptions = { grounded: { tokenDelayMs: settings.tokenDelayMs } };
  const engine = new ReplyEngine({
    db: database.db,
    redis,
    keys: streams,
    responders: {
      GROUNDED: deps.responders?.GROUNDED ?? responderFor('GROUNDED', options),
      OPENAI_COMPATIBLE: deps.responders?.OPENAI_COMPATIBLE ?? responderFor('OPENAI_COMPATIBLE', options),
    },
    cache: responseCache,
    gatewayUrl: settings.gatewayUrl,
    authUrl: settings.authUrl,
    openaiDefaultKey: settings.openaiDefaultKey,
    leaseSeconds: settings.leaseSeconds,
  });
  const sweeper = new LeaseSweeper({ db: database.db, redis, keys: streams, intervalMs: settings.sweepIntervalMs });
  return {
    db: database.db,
    redis,
    hub,
    streams,
    engine,
    sweeper,
    responseCache,
    settings,
    ping: database.ping,
    async close() {
      await sweeper.stop();
      await engine.close();
      hub.close();
      await database.close();
      release();
    },
  };
}

/** The per-request context over the process-wide app. */
export function contextFor(app: ConversationApp, base: SubgraphContext): ConversationContext {
  return {
    ...base,
    db: app.db,
    redis: app.redis,
    hub: app.hub,
    streams: app.streams,
    engine: app.engine,
    responseCache: app.responseCache,
    loaders: createLoaders(app.db),
  };
}

/**
 * Starts the conversation subgraph on `port` (0: any free port): HTTP and
 * subscriptions over WebSocket on `/graphql`, the lease sweeper running.
 * Migrations must have run (`migrateAll(target, [databaseSpec])`).
 *
 * @example
 * const running = await startConversationSubgraph({ target, internalTokenKey, redis }, 0);
 * // ... running.url, then await running.stop();
 */
export async function startConversationSubgraph(
  deps: ConversationDeps,
  port: number,
  host?: string,
): Promise<RunningConversation> {
  const app = await createConversationApp(deps);
  app.sweeper.start();
  const running = await startSubgraph<ConversationContext>(
    {
      name: 'conversation',
      typeDefs,
      resolvers: withRateLimits(typeDefs, resolvers, { ...deps.rateLimits, redis: app.redis }),
      internalTokenKey: deps.internalTokenKey,
      createContext: (base) => contextFor(app, base),
      ready: { postgres: app.ping, redis: pingRedis(app.redis) },
      close: app.close,
      subscriptions: true,
    },
    port,
    host,
  );
  return { ...running, app };
}
