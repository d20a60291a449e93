import { createHash } from 'node:crypto';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, type GraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayExecutor, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, GraphQLError, parse, validate, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSupergraphGateway } from './gateway.ts';
import { createPlanning } from './planning.ts';

/**
 * Differential tests: every operation runs through `@apollo/gateway`'s own
 * executor and through ours over the same supergraph and the same subgraphs
 * (real `@apollo/subgraph` schemas, their answers JSON round-tripped as over
 * HTTP), and the two results must serialise to the same bytes: data, key
 * order, errors with their paths and codes, value-completion reports.
 */

const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible", "@interfaceObject"])`;

const products = [
  { upc: '1', name: 'Table', price: 899, weight: 100, kind: 'FURNITURE', tags: ['wood'], grid: [[1, 2], [3]] },
  { upc: '2', name: 'Couch', price: 1299, weight: 1000, kind: 'SECRET', tags: [], grid: [] },
  { upc: '3', name: 'Chair', price: 54, weight: 50, kind: 'FURNITURE', tags: ['wood', 'oak'], grid: [[null]] },
];
const users = [
  { id: '1', name: 'Ada', username: '@ada', score: 3 },
  { id: '2', name: 'Alan', username: '@alan', score: 'not a number' },
];
const reviews = [
  { id: '1', authorId: '1', upc: '1', body: 'Love it!' },
  { id: '2', authorId: '1', upc: '2', body: 'Too expensive.' },
  { id: '3', authorId: '2', upc: '3', body: 'Could be better.' },
  { id: '4', authorId: '2', upc: '1', body: 'Prefer something else.' },
];

const subgraphs = {
  products: {
    typeDefs: `${link}
      enum Kind { FURNITURE SECRET @inaccessible }
      type Query { topProducts(first: Int = 5): [Product] grid: [[Product]] search(term: String!): [Result!]! }
      union Result = Product | Note
      type Note { text: String! }
      type Product @key(fields: "upc") {
        upc: String! name: String price: Int weight: Int kind: Kind mandatoryKind: Kind! tags: [String!]! grid: [[Int]]
      }
      type Mutation { rename(upc: String!, name: String!): Product }`,
    resolvers: {
      Query: {
        topProducts: (_: unknown, { first }: { first: number }) => products.slice(0, first),
        grid: () => [[products[0], products[1]], [], [products[2]]],
        search: () => [products[0], { __typename: 'Note', text: 'a note' }, products[1]],
      },
      Result: { __resolveType: (value: { __typename?: string }) => value.__typename ?? 'Product' },
      Product: {
        __resolveReference: (reference: { upc: string }) => products.find((product) => product.upc === reference.upc),
        mandatoryKind: (product: { kind: string }) => product.kind,
      },
      Mutation: {
        rename: (_: unknown, { upc, name }: { upc: string; name: string }) => ({
          ...products.find((p) => p.upc === upc),
          name,
        }),
      },
    },
  },
  inventory: {
    typeDefs: `${link}
      type Product @key(fields: "upc") {
        upc: String! weight: Int @external price: Int @external inStock: Boolean
        shippingEstimate: Int @requires(fields: "price weight")
        flaky: String
      }`,
    resolvers: {
      Product: {
        __resolveReference: (reference: { upc: string; price?: number; weight?: number }) => reference,
        inStock: (product: { upc: string }) => product.upc !== '2',
        shippingEstimate: (product: { price: number; weight: number }) =>
          product.price > 1000 ? 0 : Math.round(product.weight * 0.5),
        flaky: (product: { upc: string }) => {
          if (product.upc === '2') throw new GraphQLError('inventory is down for 2', { extensions: { code: 'FLAKY' } });
          return `ok ${product.upc}`;
        },
      },
    },
  },
  reviews: {
    typeDefs: `${link}
      type Review { id: ID! body: String author: User @provides(fields: "username") product: Product }
      type User @key(fields: "id") { id: ID! username: String @external reviews: [Review] }
      type Product @key(fields: "upc") { upc: String! reviews: [Review] }
      type Query { review(id: ID!): Review }`,
    resolvers: {
      Query: { review: (_: unknown, { id }: { id: string }) => reviews.find((review) => review.id === id) },
      Review: {
        author: (review: { authorId: string }) => ({
          __typename: 'User',
          id: review.authorId,
          username: users.find((user) => user.id === review.authorId)?.username,
        }),
        product: (review: { upc: string }) => ({ __typename: 'Product', upc: review.upc }),
      },
      User: { reviews: (user: { id: string }) => reviews.filter((review) => review.authorId === user.id) },
      Product: { reviews: (product: { upc: string }) => reviews.filter((review) => review.upc === product.upc) },
    },
  },
  accounts: {
    typeDefs: `${link}
      interface Node { id: ID! }
      type User implements Node @key(fields: "id") { id: ID! name: String username: String @shareable score: Int }
      type Query { me: User users: [User!]! node(id: ID!): Node }`,
    resolvers: {
      Query: {
        me: () => users[0],
        users: () => users,
        node: (_: unknown, { id }: { id: string }) => users.find((user) => user.id === id),
      },
      Node: { __resolveType: () => 'User' },
      User: { __resolveReference: (reference: { id: string }) => users.find((user) => user.id === reference.id) },
    },
  },
  media: {
    typeDefs: `${link}
      interface Media @key(fields: "id") { id: ID! title: String }
      type Book implements Media @key(fields: "id") { id: ID! title: String pages: Int }
      type Movie implements Media @key(fields: "id") { id: ID! title: String minutes: Int }
      type Query { media: [Media] }`,
    resolvers: {
      Query: {
        media: () => [
          { __typename: 'Book', id: 'b1', title: 'Dune', pages: 412 },
          { __typename: 'Movie', id: 'm1', title: 'Alien', minutes: 117 },
        ],
      },
      Media: {
        __resolveType: (value: { __typename: string }) => value.__typename,
        __resolveReference: (reference: { id: string }) =>
          reference.id.startsWith('b')
            ? { __typename: 'Book', id: reference.id, title: 'Dune', pages: 412 }
            : { __typename: 'Movie', id: reference.id, title: 'Alien', minutes: 117 },
      },
    },
  },
  ratings: {
    typeDefs: `${link}
      type Media @key(fields: "id") @interfaceObject { id: ID! rating: Int }
      type Query { topRated: [Media] }`,
    resolvers: {
      Query: { topRated: () => [{ id: 'm1' }, { id: 'b1' }] },
      Media: {
        __resolveReference: (reference: { id: string }) => reference,
        rating: (media: { id: string }) => (media.id === 'b1' ? 5 : 4),
      },
    },
  },
} as const;

/** A subgraph answering through its real schema, its result serialised as HTTP would. */
class JsonSubgraph implements GraphQLDataSource {
  /** When set, answered instead of executing (a subgraph that is down, or answers nonsense). */
  answer: Record<string, unknown> | undefined;
  readonly #schema: GraphQLSchema;
  constructor(schema: GraphQLSchema) {
    this.#schema = schema;
  }
  async process(options: GraphQLDataSourceProcessOptions): Promise<Record<string, never>> {
    if (this.answer) return structuredClone(this.answer) as Record<string, never>;
    const result = await graphql({
      schema: this.#schema,
      source: options.request.query ?? '',
      variableValues: options.request.variables ?? null,
      operationName: options.request.operationName ?? null,
    });
    return JSON.parse(JSON.stringify(result)) as Record<string, never>;
  }
}

let apollo: GatewayExecutor;
let sources: Record<string, JsonSubgraph>;
let ours: GatewayExecutor;
let apiSchema: GraphQLSchema;
let composedSdl: string;

beforeAll(async () => {
  const composed = composeServices(
    Object.entries(subgraphs).map(([name, { typeDefs }]) => ({
      name,
      typeDefs: parse(typeDefs),
      url: `http://${name}`,
    })),
  );
  if (composed.errors) throw new Error(composed.errors.map((error) => error.message).join('\n'));
  const supergraphSdl = composed.supergraphSdl;
  composedSdl = supergraphSdl;
  sources = Object.fromEntries(
    Object.entries(subgraphs).map(([name, { typeDefs, resolvers }]) => [
      name,
      new JsonSubgraph(buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: resolvers as never })),
    ]),
  );
  const buildService = ({ name }: { name: string }) => sources[name]!;
  const reference = new ApolloGateway({ supergraphSdl, buildService });
  reference.onSchemaLoadOrUpdate(({ apiSchema: schema }) => (apiSchema = schema));
  apollo = (await reference.load()).executor!;
  const gateway = createSupergraphGateway({
    supergraphSdl,
    planning: createPlanning(supergraphSdl),
    serviceMap: () => sources,
  });
  ours = (await gateway.load({ apollo: {} })).executor!;
});

function requestContext(query: string, variables?: Record<string, unknown>, operationName?: string) {
  const document = parse(query);
  const errors = validate(apiSchema, document);
  if (errors.length > 0) throw new Error(errors.map((error) => error.message).join('\n'));
  return {
    request: { query, ...(variables ? { variables } : {}), ...(operationName ? { operationName } : {}) },
    document,
    source: query,
    queryHash: createHash('sha256').update(query).digest('hex'),
    operationName: operationName ?? null,
    context: {},
    metrics: {},
    logger: console,
    schema: apiSchema,
  } as unknown as GatewayGraphQLRequestContext;
}

/** The result as the response would carry it (Apollo Server formats errors with toJSON). */
function serialised(result: Awaited<ReturnType<GatewayExecutor>>): string {
  const format = (error: unknown) =>
    error instanceof GraphQLError ? error.toJSON() : { message: (error as Error).message, kind: 'plain Error' };
  const extensions = result.extensions?.['valueCompletion']
    ? { valueCompletion: (result.extensions['valueCompletion'] as unknown[]).map(format) }
    : result.extensions;
  return JSON.stringify({ data: result.data, errors: result.errors?.map(format), extensions });
}

async function both(query: string, variables?: Record<string, unknown>, operationName?: string) {
  const reference = serialised(await apollo(requestContext(query, variables, operationName)));
  // Twice: the second run takes the prepared (cached) path.
  const first = serialised(await ours(requestContext(query, variables, operationName)));
  const second = serialised(await ours(requestContext(query, variables, operationName)));
  expect(first).toBe(reference);
  expect(second).toBe(reference);
  return JSON.parse(reference) as {
    data?: unknown;
    errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
    extensions?: { valueCompletion?: { message: string; path?: unknown[] }[] };
  };
}

describe('our plan executor answers exactly what @apollo/gateway answers', () => {
  it('entity fetches across four subgraphs, @requires, @provides, nested lists of entities', async () => {
    const result = await both(`{
      topProducts { upc name price inStock shippingEstimate
        reviews { id body author { id username name reviews { product { upc name inStock } } } } }
      grid { name inStock }
    }`);
    expect(result.errors).toBeUndefined();
    expect(JSON.stringify(result.data)).toContain('"shippingEstimate":0');
  });

  it('aliases, repeated fields merged from fragments, __typename aliased and in entities', async () => {
    await both(
      `query Aliased {
      t: __typename
      a: topProducts(first: 1) { upc n: name ... on Product { n: name price } }
      b: topProducts(first: 2) { __typename kind: upc ty: __typename reviews { author { __typename name } } }
      me { ...Who reviews { body } }
    }
    fragment Who on User { id name t: __typename }`,
      undefined,
      'Aliased',
    );
  });

  it("response names that are Object.prototype's own property names", async () => {
    const result = await both(`{
      constructor: topProducts(first: 1) { toString: name __proto__: upc hasOwnProperty: inStock valueOf: reviews { body } }
      me { constructor: name }
    }`);
    expect(JSON.stringify(result.data)).toContain('"toString":"Table"');
  });

  it('unions and interfaces, type conditions that do and do not apply', async () => {
    await both(`{
      search(term: "x") { __typename ... on Product { upc inStock } ... on Note { text } }
      node(id: "2") { id ... on User { name reviews { body } } }
    }`);
  });

  it('@skip/@include with variables, defaults and literals; Condition nodes in the plan', async () => {
    const query = `query Q($skip: Boolean = true, $with: Boolean!) {
      topProducts(first: 2) @include(if: $with) { name @skip(if: $skip) price @include(if: false) inStock @skip(if: $skip) }
      me @include(if: $with) { name reviews @skip(if: $skip) { body } }
    }`;
    await both(query, { with: true });
    await both(query, { with: true, skip: false });
    await both(query, { with: false });
  });

  it('variables: passed to subgraphs, refused when they do not coerce', async () => {
    await both(`query($first: Int) { topProducts(first: $first) { upc } }`, { first: 2 });
    const refused = await both(`query($first: Int) { topProducts(first: $first) { upc } }`, { first: 'two' });
    expect(refused.errors?.[0]?.message).toMatch(/got invalid value/);
  });

  it('an operation with no fetch at all: __typename and introspection only', async () => {
    const result = await both(`{ __typename t: __typename __schema { queryType { name } } }`);
    expect(result.data).toEqual({ __typename: 'Query', t: 'Query', __schema: { queryType: { name: 'Query' } } });
  });

  it('introspection next to data', async () => {
    await both(
      `query($name: String!) {
      __type(name: $name) { name fields { name } }
      __schema { queryType { name } }
      topProducts(first: 1) { name __typename }
    }`,
      { name: 'Product' },
    );
  });

  it('subgraph errors at entity paths, and partial data', async () => {
    const result = await both(`{ topProducts { upc flaky reviews { author { name } } } }`);
    expect(result.errors?.[0]?.path).toEqual(['topProducts', 1, 'flaky']);
    expect(result.errors?.[0]?.extensions?.['code']).toBe('FLAKY');
  });

  it('values the API schema does not allow: @inaccessible enum values, invalid scalars, non-null bubbling', async () => {
    // The subgraph may answer SECRET; the API schema has no such value, so the gateway nulls it and reports it.
    const nullable = await both(`{ topProducts { upc kind } }`);
    expect(nullable.extensions?.valueCompletion?.map((error) => error.path)).toEqual([['topProducts', 1, 'kind']]);
    // With a subgraph error as well, only the subgraph's error is reported (Apollo's rule).
    const mixed = await both(`{ topProducts { upc kind } users { name score } }`);
    expect(mixed.errors?.map((error) => error.path)).toEqual([['users', 1, 'score']]);
    expect(mixed.extensions).toBeUndefined();
    await both(`{ topProducts { upc mandatoryKind } }`);
    await both(`{ users { score } me { name } }`);
  });

  it('lists of lists of scalars, empty lists, nulls in lists', async () => {
    await both(`{ topProducts { tags grid } }`);
  });

  it('interface objects (@interfaceObject): rewrites of __typename both ways', async () => {
    await both(`{ media { id title rating ... on Book { pages } } }`);
    await both(`{ topRated { id rating title ... on Movie { minutes } } }`);
  });

  it('mutations, then entity fetches on what they return', async () => {
    await both(
      `mutation { a: rename(upc: "1", name: "Desk") { name inStock } b: rename(upc: "3", name: "Stool") { name } }`,
    );
  });

  it('a subgraph that is down, or answers the wrong number of entities', async () => {
    const inventory = sources['inventory']!;
    try {
      inventory.answer = {
        errors: [
          {
            message: 'Service "inventory" is unavailable',
            path: ['_entities', 1, 'inStock'],
            extensions: { code: 'SERVICE_UNAVAILABLE' },
          },
        ],
      };
      const down = await both(`{ topProducts { upc inStock } }`);
      expect(down.errors?.[0]?.path).toEqual(['topProducts', 1, 'inStock']);
      inventory.answer = { data: { _entities: [{ inStock: true }] } };
      const short = await both(`{ topProducts { upc inStock } }`);
      expect(short.errors?.[0]?.message).toBe('Expected "data._entities" to contain 3 elements');
      inventory.answer = { data: { _entities: [{ inStock: 'yes' }, null, { inStock: true }] } };
      await both(`{ topProducts { upc inStock } }`);
    } finally {
      inventory.answer = undefined;
    }
  });

  it('shows the plan to a development request that asks for it, and to nobody else', async () => {
    const gateway = createSupergraphGateway({
      supergraphSdl: composedSdl,
      planning: createPlanning(composedSdl),
      serviceMap: () => sources,
      exposeQueryPlan: true,
    });
    const executor = (await gateway.load({ apollo: {} })).executor!;
    const asking = (format?: string) => {
      const context = requestContext(`{ me { name } }`);
      const headers = new Map([['apollo-query-plan-experimental', '1']]);
      if (format) headers.set('apollo-query-plan-experimental-format', format);
      (context.request as { http?: unknown }).http = {
        headers: { get: (name: string) => headers.get(name.toLowerCase()) },
      };
      return executor(context);
    };
    const shown = await asking();
    expect(String(shown.extensions?.['__queryPlanExperimental'])).toMatch(
      /^QueryPlan \{[\s\S]*Fetch\(service: "accounts"\)/,
    );
    expect((await asking('internal')).extensions?.['__queryPlanExperimental']).toMatchObject({ kind: 'QueryPlan' });
    expect(shown.data).toEqual({ me: { name: 'Ada' } });
    // The production gateway (exposeQueryPlan off, `ours` here) ignores the header.
    const context = requestContext(`{ me { name } }`);
    (context.request as { http?: unknown }).http = { headers: { get: () => '1' } };
    expect((await ours(context)).extensions).toBeUndefined();
  });
});
