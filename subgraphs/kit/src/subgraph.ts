import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type http from 'node:http';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { DocumentNode } from 'graphql';
import { enforceAuthDirectives } from './auth-directives.ts';
import { serveSubscriptions } from './subscriptions.ts';
import { rejectNulArguments } from './validate.ts';
import { maskError } from '@supergraph/platform';
import {
  closeServer,
  createGraphQLHttpServer,
  graphqlMetricsPlugin,
  healthRoute,
  HttpError,
  isDraining,
  listen,
  observePools,
  readinessRoute,
  type ReadinessChecks,
  type RouteHandler,
} from '@supergraph/platform';
import type { Identity } from '@supergraph/platform';
import { INTERNAL_TOKEN_HEADER, verifyInternalToken } from '@supergraph/platform';
import type { CryptoKey, KeyObject } from 'jose';
import { openPools } from '@supergraph/db';

/** A subgraph's resolver map, by type name (its generated `Resolvers` fits). */
export type SubgraphResolvers = object;

/** What every subgraph resolver can rely on in its context. */
export interface SubgraphContext {
  identity: Identity;
  requestId: string;
  /**
   * The gateway-signed internal token this request carried (audience: this
   * subgraph). A subgraph hands it on only to prove "this user asked me, just
   * now" to a service that accepts that proof (auth's `/internal/grants`).
   */
  internalToken: string;
}

export interface SubgraphOptions<TContext extends SubgraphContext> {
  /** Subgraph name; also the audience its internal tokens must carry. */
  name: string;
  typeDefs: DocumentNode;
  /**
   * The resolver map, typed by the subgraph with its generated `Resolvers`.
   * Codegen models `__resolveReference(reference, ctx, info)`, which Apollo's
   * `GraphQLResolverMap` (field signatures only) cannot express, so the map is
   * taken as it is and handed to `buildSubgraphSchema` here, the one place.
   */
  resolvers: SubgraphResolvers;
  /** The gateway's public key for internal tokens. */
  internalTokenKey: CryptoKey | KeyObject;
  /** Adds the subgraph's own per-request context (loaders, db) to the verified identity. */
  createContext: (base: SubgraphContext) => TContext | Promise<TContext>;
  /**
   * Readiness checks by dependency name (`{ postgres: database.ping, redis:
   * pingRedis(redis) }`); `/ready` answers 503 naming those that fail. A bare
   * function is the `postgres` check.
   */
  ready: (() => Promise<void>) | ReadinessChecks;
  /** Releases resources (pool, redis) after the HTTP server drained. */
  close: () => Promise<void>;
  routes?: Readonly<Record<string, RouteHandler>>;
  maxBodyBytes?: number;
  /**
   * Serve the schema's subscriptions over graphql-ws on `/graphql` (same
   * port), for the gateway only: `connection_init` must carry its internal
   * token (see `serveSubscriptions`). Default false.
   */
  subscriptions?: boolean;
  /**
   * Once `stop()` begins, `/ready` answers 503 `draining` at once; the
   * listener stays open this much longer, so a load balancer polling `/ready`
   * stops sending work before connections are refused. Default 0.
   */
  drainDelayMs?: number;
}

export interface RunningSubgraph {
  name: string;
  url: string;
  http: http.Server;
  stop(): Promise<void>;
}

/**
 * A subgraph server: `buildSubgraphSchema` + `@authenticated`/`@requiresScopes`
 * enforcement, `/graphql` accepting only gateway-signed internal tokens (401
 * otherwise, `_service` and `_entities` included), `/health` and `/ready`.
 * When starting fails (bad schema, port taken) it calls `options.close()`, so
 * callers hand over their pool and clients once and never clean up twice.
 */
export async function startSubgraph<TContext extends SubgraphContext>(
  options: SubgraphOptions<TContext>,
  port: number,
  host = '127.0.0.1',
): Promise<RunningSubgraph> {
  try {
    return await serveSubgraph(options, port, host);
  } catch (error) {
    await options.close().catch(() => {});
    throw error;
  }
}

async function serveSubgraph<TContext extends SubgraphContext>(
  options: SubgraphOptions<TContext>,
  port: number,
  host: string,
): Promise<RunningSubgraph> {
  observeDatabasePools();
  // Access checks wrap outside the NUL check: a refused caller learns nothing about its input.
  const schema = enforceAuthDirectives(
    rejectNulArguments(
      buildSubgraphSchema([
        { typeDefs: options.typeDefs, resolvers: options.resolvers as GraphQLResolverMap<TContext> },
      ]),
    ),
  );
  const apollo = new ApolloServer<TContext>({
    schema,
    // The service's entry point owns SIGTERM/SIGINT (drain HTTP, then Apollo, then the pool).
    stopOnTerminationSignals: false,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => maskError(formatted, error, options.name),
    // Inline traces (ftv1) are for Apollo's hosted studio, which we do not use; tracing is OpenTelemetry's job.
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      graphqlMetricsPlugin<TContext>({ service: options.name }),
    ],
  });
  await apollo.start();
  const server: http.Server = createGraphQLHttpServer<TContext>({
    apollo,
    maxBodyBytes: options.maxBodyBytes ?? 2 * 1024 * 1024,
    routes: {
      '/health': healthRoute(options.name),
      '/ready': readinessRoute({
        service: options.name,
        checks: typeof options.ready === 'function' ? { postgres: options.ready } : options.ready,
        isDraining: (): boolean => stopping !== undefined || isDraining(server),
      }),
      ...options.routes,
    },
    context: async (req) => {
      const { identity, token } = await identityFromRequest(req, options);
      return options.createContext({
        identity,
        internalToken: token,
        requestId: headerValue(req, 'x-request-id') ?? randomUUID(),
      });
    },
  });
  const subscriptions = options.subscriptions
    ? serveSubscriptions({
        server,
        schema,
        name: options.name,
        internalTokenKey: options.internalTokenKey,
        createContext: options.createContext,
      })
    : undefined;
  const url = await listen(server, port, host).catch(async (error: unknown) => {
    await subscriptions?.close();
    await apollo.stop();
    throw error;
  });
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    url: `${url}/graphql`,
    http: server,
    stop: () =>
      (stopping ??= (async () => {
        if (options.drainDelayMs) await new Promise((resolve) => setTimeout(resolve, options.drainDelayMs));
        // Sockets first (1001): an open one would hold the HTTP drain, and a subscription must not outlive the pool.
        await subscriptions?.close();
        await closeServer(server);
        await apollo.stop();
        await options.close();
      })()),
  };
}

let isObservingPools = false;

/** Every open pool of the process in `db_pool_connections`, labelled by its schema; once per process. */
function observeDatabasePools(): void {
  if (isObservingPools) return;
  isObservingPools = true;
  observePools(() => openPools().map((pool) => ({ ...pool, service: pool.schema })));
}

async function identityFromRequest(
  req: IncomingMessage,
  options: { name: string; internalTokenKey: CryptoKey | KeyObject },
) {
  const token = headerValue(req, INTERNAL_TOKEN_HEADER);
  if (!token) throw new HttpError(401, 'UNAUTHENTICATED', 'This service only accepts requests from the gateway');
  try {
    return { identity: await verifyInternalToken(token, options.name, options.internalTokenKey), token };
  } catch {
    throw new HttpError(401, 'UNAUTHENTICATED', 'Invalid internal token');
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
