import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';

/** A WebSocket endpoint on an existing HTTP server: its sockets, and a close that says goodbye to each. */
export interface WebSocketEndpoint {
  sockets: WebSocketServer;
  /** Open connections right now. */
  connections(): number;
  /**
   * Stops accepting upgrades, closes every connection with 1001 Going Away
   * (cutting off a peer that does not answer within a second), then the
   * server. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Accepts WebSocket upgrades for `path` on `server` (the same port as its
 * HTTP routes) and destroys upgrades for any other path. The gateway's
 * graphql-ws transport and every subgraph's subscriptions share it.
 *
 * @example
 * const endpoint = acceptWebSockets(server, '/graphql');
 * useServer({ schema }, endpoint.sockets);
 * // ... on shutdown, before the HTTP server drains:
 * await endpoint.close();
 */
export function acceptWebSockets(
  server: http.Server,
  path: string,
  options: Omit<ServerOptions, 'noServer' | 'server' | 'port'> = {},
): WebSocketEndpoint {
  const sockets = new WebSocketServer({ ...options, noServer: true });
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== path) {
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);
  let closing: Promise<void> | undefined;
  return {
    sockets,
    connections: () => sockets.clients.size,
    close: () =>
      (closing ??= (async () => {
        server.off('upgrade', onUpgrade);
        await Promise.all(
          [...sockets.clients].map(
            (ws: WebSocket) =>
              new Promise<void>((resolve) => {
                if (ws.readyState === ws.CLOSED) return resolve();
                ws.once('close', () => resolve());
                ws.close(1001, 'Going Away');
                setTimeout(() => ws.terminate(), 1_000).unref();
              }),
          ),
        );
        await new Promise<void>((resolve) => sockets.close(() => resolve()));
      })()),
  };
}
