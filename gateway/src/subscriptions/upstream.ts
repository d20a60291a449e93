import type { GraphQLFormattedError } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

/** How an upstream subscription ended other than by completing. */
export type UpstreamFailure =
  /** The subgraph refused the operation with a graphql-ws `error` message (e.g. validation). */
  | { kind: 'errors'; errors: readonly GraphQLFormattedError[] }
  /** The socket could not be opened, or closed under the subscription (subgraph stopped, crashed, refused the token). */
  | { kind: 'unavailable'; reason: string };

export interface UpstreamSink {
  next(result: FormattedExecutionResult): void;
  error(failure: UpstreamFailure): void;
  complete(): void;
}

export interface UpstreamRequest {
  /** The subgraph's GraphQL URL (`http(s)://…/graphql`); the socket goes to its `ws(s)://` twin. */
  url: string;
  /** Sent as `connection_init`'s payload: the subgraph verifies the internal token there. */
  connectionParams: () => Promise<Record<string, unknown>>;
  query: string;
  variables: Record<string, unknown>;
  operationName?: string | undefined;
  /** W3C trace context sent on the socket's upgrade request, so the subgraph's side of the stream joins the trace. */
  traceparent?: string | undefined;
}

/** One open subscription on a subgraph, on a socket of its own. */
export interface Upstream {
  /** Unsubscribes and closes the socket; resolves once the socket is closed. */
  close(): Promise<void>;
}

/**
 * Opens upstream subscriptions over graphql-ws (`graphql-transport-ws`), one
 * socket per subscription: closing a client's stream is closing its socket,
 * with nothing shared to account for. Counts the sockets it has open, so
 * tests can prove none leaks.
 */
export function createUpstreams() {
  const live = new Set<WebSocket>();

  function open(request: UpstreamRequest, sink: UpstreamSink): Upstream {
    const own: Array<{ socket: WebSocket; closed: Promise<void> }> = [];
    // A class per subscription, so it knows its own socket from the moment it is created (not only once open).
    class CountedWebSocket extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, request.traceparent ? { headers: { traceparent: request.traceparent } } : {});
        live.add(this);
        const closed = new Promise<void>((resolve) =>
          this.once('close', () => {
            live.delete(this);
            resolve();
          }),
        );
        own.push({ socket: this, closed });
      }
    }
    let settled = false;
    const settle = (report: () => void) => {
      if (settled) return;
      settled = true;
      report();
    };
    const client: Client = createClient({
      url: request.url.replace(/^http/i, 'ws'),
      webSocketImpl: CountedWebSocket,
      lazy: false,
      retryAttempts: 0,
      shouldRetry: () => false,
      connectionParams: request.connectionParams,
      // The sink below hears of every failure; graphql-ws would log non-lazy ones to the console besides.
      onNonLazyError: () => {},
    });
    const unsubscribe = client.subscribe<Record<string, unknown>, Record<string, unknown>>(
      {
        query: request.query,
        variables: request.variables,
        ...(request.operationName ? { operationName: request.operationName } : {}),
      },
      {
        next: (result) => {
          if (!settled) sink.next(result);
        },
        complete: () => settle(() => sink.complete()),
        error: (failure: unknown) => settle(() => sink.error(upstreamFailure(failure))),
      },
    );
    let closing: Promise<void> | undefined;
    return {
      close: () =>
        (closing ??= (async () => {
          settled = true;
          unsubscribe();
          void client.dispose();
          await Promise.all(
            own.map(async ({ socket, closed }) => {
              // A polite close (1000) first; a subgraph that does not answer it within a second is cut off.
              if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'Normal Closure');
              const timer = setTimeout(() => socket.terminate(), socket.readyState === WebSocket.CLOSING ? 1_000 : 0);
              await closed;
              clearTimeout(timer);
            }),
          );
        })()),
    };
  }

  return {
    open,
    /** Upstream sockets open (or opening) right now. */
    sockets: () => live.size,
  };
}

export type Upstreams = ReturnType<typeof createUpstreams>;

function upstreamFailure(failure: unknown): UpstreamFailure {
  if (Array.isArray(failure)) return { kind: 'errors', errors: failure as GraphQLFormattedError[] };
  const close = failure as { code?: unknown; reason?: unknown } | null;
  if (close && typeof close.code === 'number')
    return {
      kind: 'unavailable',
      reason: `socket closed (${close.code}${close.reason ? ` ${String(close.reason)}` : ''})`,
    };
  return { kind: 'unavailable', reason: failure instanceof Error ? failure.message : String(failure) };
}
