/**
 * The four subgraphs, one process (the bench pins it to core 0 beside the load
 * generator). Each is `@apollo/subgraph`'s schema behind a bare `node:http`
 * handler that parses and validates each distinct document once, so the
 * subgraphs stay cheap next to the gateway under test. Subgraphs verify no
 * token: to them every gateway is foreign.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { announce, stopWithParent } from './child.mts';
import { SUBGRAPHS } from './subgraph-list.mts';

const MAX_CACHED_DOCUMENTS = 1_000;

function serve(schema: GraphQLSchema): Server {
  const documents = new Map<string, DocumentNode | readonly Error[]>();
  const documentOf = (query: string) => {
    let document = documents.get(query);
    if (!document) {
      try {
        const parsed = parse(query);
        const errors = validate(schema, parsed);
        document = errors.length > 0 ? errors : parsed;
      } catch (error) {
        document = [error as Error];
      }
      // Hive batches entity fetches into documents that vary with load; keep the cache bounded.
      if (documents.size >= MAX_CACHED_DOCUMENTS) documents.clear();
      documents.set(query, document);
    }
    return document;
  };
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method === 'GET' && req.url === '/health') return reply(200, { status: 'ok' });
      if (req.method !== 'POST') return reply(405, { errors: [{ message: 'POST only' }] });
      let request: { query?: unknown; variables?: Record<string, unknown>; operationName?: string };
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(400, { errors: [{ message: 'Body is not JSON' }] });
      }
      if (typeof request.query !== 'string') return reply(400, { errors: [{ message: 'No query' }] });
      const document = documentOf(request.query);
      if (Array.isArray(document)) return reply(400, { errors: document.map((error) => ({ message: error.message })) });
      Promise.resolve(
        execute({
          schema,
          document: document as DocumentNode,
          variableValues: request.variables ?? null,
          operationName: request.operationName ?? null,
          contextValue: {},
        }),
      ).then(
        (result) => reply(200, result),
        (error: unknown) => reply(500, { errors: [{ message: String(error) }] }),
      );
    });
  });
}

const servers = new Map<string, Server>();
for (const { name, typeDefs, resolvers } of SUBGRAPHS) {
  const server = serve(buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: resolvers as never }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.set(name, server);
}
stopWithParent(async () => {
  for (const server of servers.values()) server.closeAllConnections();
  await Promise.all([...servers.values()].map((server) => new Promise((resolve) => server.close(resolve))));
});
announce(
  Object.fromEntries(
    [...servers].map(([name, server]) => [name, `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`]),
  ),
);
