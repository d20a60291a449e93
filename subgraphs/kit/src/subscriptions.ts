import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { CryptoKey, KeyObject } from 'jose';
import {
  acceptWebSockets,
  maskError,
  REQUEST_ID_PATTERN,
  verifyInternalToken,
  type Identity,
} from '@supergraph/platform';
import type { SubgraphContext } from './subgraph.ts';

/** What a subgraph's subscription endpoint needs; `startSubgraph({ subscriptions: true })` fills it in. */
export interface SubgraphSubscriptionOptions<TContext extends SubgraphContext> {
  /** The subgraph's HTTP server: WebSocket upgrades on `/graphql` join it, same port. */
  server: http.Server;
  /** The executable schema the HTTP path serves (directive enforcement included). */
  schema: GraphQLSchema;
  /** Subgraph name: the audience its internal tokens must carry, and the masking label. */
  name: string;
  internalTokenKey: CryptoKey | KeyObject;
  createContext: (base: SubgraphContext) => TContext | Promise<TContext>;
}

export interface SubgraphSubscriptions {
  /** Open WebSocket connections right now. */
  connections(): number;
  /** Closes every socket (1001 Going Away) and the WebSocket server. */
  close(): Promise<void>;
}

/** What a connection carries once its `connection_init` was verified. */
interface Verified {
  identity: Identity;
  internalToken: string;
  requestId: string | undefined;
}

/**
 * Subscriptions on a subgraph: graphql-ws (`graphql-transport-ws`) on the
 * HTTP server's `/graphql`. Only the gateway connects: `connection_init`'s
 * payload must carry `internalToken`, a gateway-signed internal token for
 * this subgraph (as the HTTP path's header), else the socket closes with
 * 4403. Each operation gets `createContext({ identity, internalToken,
 * requestId })`; errors are masked as on the HTTP path.
 *
 * @example
 * const subscriptions = serveSubscriptions({ server, schema, name: 'conversation', internalTokenKey, createContext });
 * // on stop, before the pool closes:
 * await subscriptions.close();
 */
export function serveSubscriptions<TContext extends SubgraphContext>(
  options: SubgraphSubscriptionOptions<TContext>,
): SubgraphSubscriptions {
  const endpoint = acceptWebSockets(options.server, '/graphql');
  const sockets = endpoint.sockets;
  const verified = new WeakMap<object, Verified>();

  const mask = (errors: readonly GraphQLError[] | readonly GraphQLFormattedError[]): GraphQLFormattedError[] =>
    errors.map((error) => {
      const formatted = 'toJSON' in error && typeof error.toJSON === 'function' ? error.toJSON() : error;
      return maskError(formatted, error, options.name);
    });

  useServer<Record<string, unknown> | undefined, Record<string, never>>(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        const token = ctx.connectionParams?.['internalToken'];
        if (typeof token !== 'string' || token === '') return false;
        try {
          const identity = await verifyInternalToken(token, options.name, options.internalTokenKey);
          const sent = ctx.connectionParams?.['requestId'];
          verified.set(ctx.extra, {
            identity,
            internalToken: token,
            requestId: typeof sent === 'string' && REQUEST_ID_PATTERN.test(sent) ? sent : undefined,
          });
          return true;
        } catch {
          return false;
        }
      },
      context: async (ctx) => {
        const connection = verified.get(ctx.extra);
        // onConnect admitted the socket only with a verified token; nothing else reaches here.
        if (!connection) throw new Error('unverified subscription connection');
        return options.createContext({
          identity: connection.identity,
          internalToken: connection.internalToken,
          requestId: connection.requestId ?? randomUUID(),
        });
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: mask(result.errors) } : result,
      onError: (_ctx, _id, _payload, errors) => mask(errors),
    },
    sockets,
  );

  return { connections: endpoint.connections, close: endpoint.close };
}
