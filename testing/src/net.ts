import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A port free right now on loopback (bound, then released): for a server whose URL others need before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A GraphQL URL on loopback where nothing listens (a port just bound and released): a subgraph that is down. */
export async function deadUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}/graphql`;
}
