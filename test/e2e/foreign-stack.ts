import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import type { CryptoKey, KeyObject } from 'jose';
import { startSubgraph, type RunningSubgraph, type SubgraphContext } from '@supergraph/kit';
import { generateInternalKeyPair, importInternalSigningKey, importInternalVerifyKey } from '@supergraph/platform';
import { startGateway, type GatewayOptions, type RunningGateway } from '@supergraph/gateway';
import { postGraphQL, type GraphQLResult } from './harness.ts';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';

/** A product catalogue: owns `Product`. Nothing here knows about users or credentials. */
export const CATALOG_TYPE_DEFS = /* GraphQL */ `
  ${LINK}

  type Query {
    products: [Product!]!
  }

  type Product @key(fields: "id") {
    id: ID!
    name: String!
  }
`;

/** Reviews: extends the catalogue's `Product` with its reviews, so one query spans both. */
export const REVIEWS_TYPE_DEFS = /* GraphQL */ `
  ${LINK}

  type Product @key(fields: "id") {
    id: ID!
    reviews: [Review!]!
  }

  type Review {
    stars: Int!
    body: String!
  }
`;

/**
 * A ledger served by a plain HTTP server that answers every request with
 * `ledger.balance: null` although the schema says `Int!`: the gateway's own
 * value completion catches it, which it reports in `extensions.valueCompletion`.
 */
export const LEDGER_TYPE_DEFS = /* GraphQL */ `
  ${LINK}

  type Query {
    ledger: Ledger
  }

  type Ledger {
    owner: String!
    balance: Int!
  }
`;

const PRODUCTS = [
  { id: 'p1', name: 'Quokka plush' },
  { id: 'p2', name: 'Wombat mug' },
];
const REVIEWS: Record<string, Array<{ stars: number; body: string }>> = {
  p1: [{ stars: 5, body: 'Smiles back' }],
  p2: [],
};

export interface ForeignStack {
  /** The supergraph of catalog, reviews and ledger, as `composeServices` wrote it. */
  supergraphSdl: string;
  gateway: RunningGateway;
  catalog: RunningSubgraph;
  reviews: RunningSubgraph;
  /** Headers of every request each subgraph received, in order. */
  requests: { catalog: IncomingHttpHeaders[]; reviews: IncomingHttpHeaders[]; ledger: IncomingHttpHeaders[] };
  /** The gateway's internal-token public key (what subgraphs verify with). */
  internalVerifyKey: CryptoKey | KeyObject;
  /** One more gateway over the same subgraphs with options changed (stopped with the stack). */
  startGatewayWith(overrides: Partial<GatewayOptions>): Promise<RunningGateway>;
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResult>;
  stop(): Promise<void>;
}

/** Composes the three foreign subgraphs (routing URLs are placeholders the gateway overrides). */
export function composeForeignSupergraph(): string {
  const result = composeServices([
    { name: 'catalog', url: 'http://127.0.0.1:4801/graphql', typeDefs: parse(CATALOG_TYPE_DEFS) },
    { name: 'reviews', url: 'http://127.0.0.1:4802/graphql', typeDefs: parse(REVIEWS_TYPE_DEFS) },
    { name: 'ledger', url: 'http://127.0.0.1:4803/graphql', typeDefs: parse(LEDGER_TYPE_DEFS) },
  ]);
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join('\n'));
  return result.supergraphSdl;
}

/**
 * The catalog and reviews subgraphs (two products, one review), on free
 * ports, accepting internal tokens verified with `verifyKey`. The foreign
 * stack and the hot-path benchmark both stand on them.
 */
export async function startCatalogAndReviews(
  verifyKey: Awaited<ReturnType<typeof importInternalVerifyKey>>,
): Promise<{ catalog: RunningSubgraph; reviews: RunningSubgraph }> {
  const common = {
    internalTokenKey: verifyKey,
    createContext: (base: SubgraphContext) => base,
    ready: async () => {},
    close: async () => {},
  };
  const catalog = await startSubgraph(
    {
      ...common,
      name: 'catalog',
      typeDefs: parse(CATALOG_TYPE_DEFS),
      resolvers: {
        Query: { products: () => PRODUCTS },
        Product: {
          __resolveReference: (reference: { id: string }) => PRODUCTS.find((product) => product.id === reference.id),
        },
      },
    },
    0,
  );
  try {
    const reviews = await startSubgraph(
      {
        ...common,
        name: 'reviews',
        typeDefs: parse(REVIEWS_TYPE_DEFS),
        resolvers: {
          Product: {
            __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
            reviews: (product: { id: string }) => REVIEWS[product.id] ?? [],
          },
        },
      },
      0,
    );
    return { catalog, reviews };
  } catch (error) {
    await catalog.stop();
    throw error;
  }
}

/**
 * A supergraph that is not ours: no auth subgraph, no `resolveCredential`, no
 * JWKS. The real gateway serves it with no auth options at all.
 */
export async function startForeignStack(gateway: Partial<GatewayOptions> = {}): Promise<ForeignStack> {
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopper of stoppers.reverse())
      await stopper().catch((error: unknown) => console.error('[e2e] stop failed', error));
  };
  try {
    const internal = generateInternalKeyPair();
    const internalVerifyKey = await importInternalVerifyKey(internal.publicKeyPem);
    const { catalog, reviews } = await startCatalogAndReviews(internalVerifyKey);
    stoppers.push(
      () => catalog.stop(),
      () => reviews.stop(),
    );
    const requests = {
      catalog: [] as IncomingHttpHeaders[],
      reviews: [] as IncomingHttpHeaders[],
      ledger: [] as IncomingHttpHeaders[],
    };
    catalog.http.on('request', (req: { headers: IncomingHttpHeaders }) => requests.catalog.push(req.headers));
    reviews.http.on('request', (req: { headers: IncomingHttpHeaders }) => requests.reviews.push(req.headers));
    const ledger = await startLyingLedger(requests.ledger);
    stoppers.push(() => new Promise<void>((resolve) => ledger.server.close(() => resolve())));

    const supergraphSdl = composeForeignSupergraph();
    const gatewayOptions: GatewayOptions = {
      supergraphSdl,
      internalTokenKey: await importInternalSigningKey(internal.privateKeyPem),
      subgraphUrls: { catalog: catalog.url, reviews: reviews.url, ledger: ledger.url },
      ...gateway,
    };
    const startGatewayWith = async (overrides: Partial<GatewayOptions>) => {
      const started = await startGateway({ ...gatewayOptions, ...overrides }, 0);
      stoppers.push(() => started.stop());
      return started;
    };
    const running = await startGatewayWith({});
    return {
      supergraphSdl,
      gateway: running,
      catalog,
      reviews,
      requests,
      internalVerifyKey,
      startGatewayWith,
      gql: (query, variables, headers) =>
        postGraphQL(running.url, { query, ...(variables ? { variables } : {}) }, headers),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startLyingLedger(requests: IncomingHttpHeaders[]): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    requests.push(req.headers);
    req.resume();
    req.on('end', () => {
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ data: { ledger: { owner: 'nobody', balance: null } } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/graphql` };
}
