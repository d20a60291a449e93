/**
 * Hive Gateway's runtime (what its CLI serves) on `node:http`, defaults
 * throughout, one process (the CLI would fork workers). Argv: the supergraph
 * file; BENCH_HIVE_OPTIONS: JSON merged into the runtime's options.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime } from '@graphql-hive/gateway';
import { announce, stopWithParent } from '../child.mts';

const gateway = createGatewayRuntime({
  supergraph: readFileSync(process.argv[2]!, 'utf8'),
  ...(JSON.parse(process.env['BENCH_HIVE_OPTIONS'] || '{}') as object),
});
const server = createServer(gateway);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
stopWithParent(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await gateway.dispose();
});
announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
