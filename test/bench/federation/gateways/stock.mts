/** Stock `@apollo/gateway` under Apollo Server 5's standalone server, defaults throughout. Argv: the supergraph file. */
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { announce, stopWithParent } from '../child.mts';

const server = new ApolloServer({
  gateway: new ApolloGateway({ supergraphSdl: readFileSync(process.argv[2]!, 'utf8') }),
});
const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
stopWithParent(() => server.stop());
announce(new URL('/graphql', url).href);
