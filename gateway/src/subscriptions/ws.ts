import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { buildSchema, GraphQLError, parse, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { decodeJwt } from 'jose';
import { acceptWebSockets, ANONYMOUS, HttpError, type Identity } from '@supergraph/platform';
import type { Authenticator } from '../authenticate.ts';
import type { BudgetVerdict } from '../budgets.ts';
import { clientAddress } from '../client-address.ts';
import { createOriginCheck } from '../cors.ts';
import type { SubscriptionCore, SubscriptionSession } from './core.ts';

/** Subscriptions one connection may hold open at once by default. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;

/** Over budget at connect (graphql-ws' own 4429 is "too many initialisation requests": the same spirit). */
const OVER_BUDGET_CLOSE = 4429;

export interface WebSocketTransportOptions {
  /** The gateway's HTTP server: upgrades on `/graphql` join it, same port; any other path is destroyed. */
  server: http.Server;
  core: SubscriptionCore;
  authenticator: Authenticator;
  /** The CORS allowlist: a browser `Origin` outside it is refused (`*` allows any; no `Origin`: not a browser). */
  corsOrigins: readonly string[];
  trustedProxyHops: number;
  /** Counted once per connection when budgets are on. */
  checkBudget?: (identity: Identity) => Promise<BudgetVerdict | undefined>;
  /** Default {@link DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION}. */
  maxSubscriptionsPerConnection?: number;
}

export interface WebSocketTransport {
  /** Open WebSocket connections right now. */
  connections(): number;
  /** Closes every connection (1001) and the WebSocket server; the core's own `close` ends the streams. */
  close(): Promise<void>;
}

/** What a connection established at `connection_init`. */
interface Connection {
  identity: Identity;
  requestId: string;
  credentialExpiresAt: number | undefined;
  /** Aborted when the socket closes: every stream of the connection ends and closes its upstream. */
  closed: AbortController;
  operations: number;
}

/**
 * graphql-ws stands in for its executor: `onSubscribe` runs the core and, for
 * a stream, hands graphql-ws this placeholder whose `subscribe` returns it.
 */
const PLACEHOLDER_SCHEMA = buildSchema('type Query { _: Boolean } type Subscription { _: Boolean }');
const PLACEHOLDER_DOCUMENT = parse('subscription { _ }');

/**
 * graphql-ws (`graphql-transport-ws`) on the gateway's `/graphql`. The
 * credential travels in `connection_init`'s payload, as the HTTP headers
 * would: `{ authorization: "Bearer <jwt>" }` (or `Authorization`,
 * `accessToken`), `{ "x-api-key" }` / `apiKey`, `{ "x-session-token" }` /
 * `sessionToken`. Every subscription of the graph needs a user, so a
 * connection without a valid credential is closed with 4403, as is one from
 * a browser `Origin` outside the CORS allowlist; over budget closes with 4429.
 * Queries and mutations are answered BAD_REQUEST (use HTTP).
 */
export function serveWebSocketSubscriptions(options: WebSocketTransportOptions): WebSocketTransport {
  const endpoint = acceptWebSockets(options.server, '/graphql', { maxPayload: 1024 * 1024 });
  const sockets = endpoint.sockets;
  const connections = new WeakMap<object, Connection>();
  const isOriginAllowed = createOriginCheck(options.corsOrigins);
  const maxSubscriptions = options.maxSubscriptionsPerConnection ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION;

  useServer<Record<string, unknown> | undefined, { connection?: Connection }>(
    {
      schema: PLACEHOLDER_SCHEMA,
      // Returning false closes with graphql-ws' 4403 Forbidden: bad credentials, anonymous, or a foreign Origin.
      onConnect: async (ctx) => {
        const origin = ctx.extra.request.headers.origin;
        if (origin !== undefined && !isOriginAllowed(origin)) return false;
        const requestId = randomUUID();
        let identity: Identity;
        const headers = credentialHeaders(ctx.connectionParams);
        try {
          identity = await options.authenticator.authenticateHeaders(headers, requestId);
        } catch (error) {
          if (error instanceof HttpError && error.status === 401) return false;
          throw error;
        }
        if (identity === ANONYMOUS || identity.userId === null) return false;
        identity = { ...identity, clientIp: clientAddress(ctx.extra.request, options.trustedProxyHops) };
        const verdict = await options.checkBudget?.(identity);
        if (verdict && !verdict.allowed) {
          ctx.extra.socket.close(OVER_BUDGET_CLOSE, `Over budget: retry in ${verdict.retryAfterSeconds} s`);
          return false;
        }
        const connection: Connection = {
          identity,
          requestId,
          credentialExpiresAt: expiryOf(headers),
          closed: new AbortController(),
          operations: 0,
        };
        connections.set(ctx.extra, connection);
        ctx.extra.socket.once('close', () => connection.closed.abort());
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const connection = connections.get(ctx.extra);
        if (!connection) return [coded('UNAUTHENTICATED', 'Connection not initialised')];
        if (Object.keys(ctx.subscriptions).length > maxSubscriptions)
          return [
            coded(
              'TOO_MANY_SUBSCRIPTIONS',
              `At most ${maxSubscriptions} subscriptions may be open on one connection; complete one first`,
            ),
          ];
        connection.operations += 1;
        const session: SubscriptionSession = {
          identity: connection.identity,
          requestId: `${connection.requestId}:${connection.operations}`,
          ...(connection.credentialExpiresAt !== undefined
            ? { credentialExpiresAt: connection.credentialExpiresAt }
            : {}),
        };
        // GraphQL-over-HTTP's `documentId` (trusted documents) rides beside `query` when a client sends it.
        const documentId = (payload as { documentId?: unknown }).documentId;
        const request = {
          // graphql-ws demands a string: a persisted request sends an empty one.
          ...(payload.query !== '' ? { query: payload.query } : {}),
          variables: payload.variables ?? null,
          operationName: payload.operationName ?? null,
          extensions: payload.extensions ?? null,
          ...(typeof documentId === 'string' ? { documentId } : {}),
        };
        const outcome = await options.core.subscribe(request, session, connection.closed.signal);
        if (!isStream(outcome)) {
          const errors = outcome.errors ?? [];
          return errors.length > 0 ? [...errors] : [coded('INTERNAL_SERVER_ERROR', 'Internal server error')];
        }
        return { schema: PLACEHOLDER_SCHEMA, document: PLACEHOLDER_DOCUMENT, contextValue: outcome } as ExecutionArgs;
      },
      subscribe: (args) => args.contextValue as AsyncIterableIterator<ExecutionResult>,
      execute: () => ({ errors: [coded('BAD_REQUEST', 'Use HTTP for queries and mutations')] }),
    },
    sockets,
  );

  return { connections: endpoint.connections, close: endpoint.close };
}

/** `connection_init`'s payload as the headers the authenticator reads (only the credential ones). */
function credentialHeaders(params: Record<string, unknown> | undefined): IncomingHttpHeaders {
  const text = (...names: string[]) => {
    for (const name of names) {
      const value = params?.[name];
      if (typeof value === 'string' && value !== '') return value;
    }
    return undefined;
  };
  const accessToken = text('accessToken');
  const authorization = text('authorization', 'Authorization') ?? (accessToken ? `Bearer ${accessToken}` : undefined);
  const apiKey = text('x-api-key', 'X-Api-Key', 'apiKey');
  const sessionToken = text('x-session-token', 'X-Session-Token', 'sessionToken');
  return {
    ...(authorization ? { authorization } : {}),
    ...(apiKey ? { 'x-api-key': apiKey } : {}),
    ...(sessionToken ? { 'x-session-token': sessionToken } : {}),
  };
}

/** A verified access token's `exp` in ms (the authenticator accepted it); undefined for API keys and sessions. */
function expiryOf(headers: IncomingHttpHeaders): number | undefined {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
  if (!token) return undefined;
  const exp = decodeJwt(token).exp;
  return typeof exp === 'number' ? exp * 1000 : undefined;
}

function isStream(
  outcome: ExecutionResult | AsyncIterableIterator<ExecutionResult>,
): outcome is AsyncIterableIterator<ExecutionResult> {
  return typeof (outcome as Partial<AsyncIterableIterator<ExecutionResult>>)[Symbol.asyncIterator] === 'function';
}

function coded(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}
