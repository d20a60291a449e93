import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** One address a {@link RoundRobin} forwards to. */
export interface Backend {
  host: string;
  port: number;
}

/** A TCP balancer on loopback (see {@link startRoundRobin}). */
export interface RoundRobin {
  /** `127.0.0.1:<port>`, where clients connect. */
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` (add the path yourself). */
  readonly origin: string;
  /** Sets (or replaces) the backends: new connections use them, open ones stay where they are. */
  setBackends(backends: readonly Backend[]): void;
  /** Connections forwarded to each backend so far, by its index in the list. */
  connectionsTo(index: number): number;
  /** Closes the listener and every open connection. */
  close(): Promise<void>;
}

export interface RoundRobinOptions {
  /**
   * `rotate` (the default): each connection starts at the next backend, like a
   * load balancer in front of identical instances. `prefer-first`: always the
   * first live one, so a caller has a known home instance and moves only when
   * it is down (what the cluster test uses to know which instance served what).
   */
  order?: 'rotate' | 'prefer-first';
  backends?: readonly Backend[];
}

/** `http://host:port/...` → the {@link Backend} it names. */
export function backendOf(url: string): Backend {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

/**
 * A small TCP round-robin: each accepted connection is piped, both ways and
 * unchanged, to one backend, so HTTP keep-alive and WebSocket upgrades pass
 * through as they are. A backend that refuses the connection (its process is
 * gone) is skipped for the next one; only when every backend refuses is the
 * client's connection closed. What a real load balancer with connect-time
 * health checks does, in 100 lines, for the multi-instance test and
 * `npm run start:cluster`.
 *
 * @example
 * const front = await startRoundRobin({ backends: [backendOf(gatewayA.url), backendOf(gatewayB.url)] });
 * await fetch(`${front.origin}/graphql`, ...);
 */
export async function startRoundRobin(options: RoundRobinOptions = {}): Promise<RoundRobin> {
  const order = options.order ?? 'rotate';
  let backends: readonly Backend[] = options.backends ?? [];
  let next = 0;
  const counts = new Map<number, number>();
  const open = new Set<Socket>();

  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  /** Connects to the backend at `attempt` positions after `start`, skipping refusals; undefined when all refuse. */
  const connectFrom = (start: number, list: readonly Backend[], attempt = 0): Promise<[Socket, number] | undefined> => {
    if (attempt >= list.length) return Promise.resolve(undefined);
    const index = (start + attempt) % list.length;
    const backend = list[index]!;
    return new Promise((resolve) => {
      const upstream = connect(backend.port, backend.host);
      const onError = () => {
        upstream.destroy();
        resolve(connectFrom(start, list, attempt + 1));
      };
      upstream.once('error', onError);
      upstream.once('connect', () => {
        upstream.off('error', onError);
        resolve([upstream, index]);
      });
    });
  };

  const server = createServer({ pauseOnConnect: true }, (client) => {
    track(client);
    // Until a backend answers, the client's bytes wait in its paused stream.
    client.on('error', () => client.destroy());
    const list = backends;
    const start = order === 'rotate' ? next++ % Math.max(list.length, 1) : 0;
    void connectFrom(start, list).then((connected) => {
      if (!connected || client.destroyed) {
        connected?.[0].destroy();
        client.destroy();
        return;
      }
      const [upstream, index] = connected;
      track(upstream);
      counts.set(index, (counts.get(index) ?? 0) + 1);
      // A reset on either side ends the other: the client sees the cut, as it would behind a real balancer.
      upstream.on('error', () => client.destroy());
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    origin: `http://127.0.0.1:${port}`,
    setBackends(list) {
      backends = [...list];
    },
    connectionsTo: (index) => counts.get(index) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
