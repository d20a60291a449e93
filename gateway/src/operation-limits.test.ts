import type { IncomingMessage } from 'node:http';
import { buildASTSchema, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { HttpError } from '@supergraph/platform';
import { createOperationLimits, type OperationLimits } from './operation-limits.ts';
import { measureOperation } from './operation-measure.ts';

const SDL = /* GraphQL */ `
  type Query {
    me: User
    stats: Stats!
    users(first: Int = 20): UserConnection!
    tags: [String!]!
    recent(last: Int): [Entry!]!
  }
  type Mutation {
    touch: Boolean
  }
  type Stats {
    entries: Int!
  }
  type User {
    id: ID!
    name: String
    entries(first: Int = 5): EntryConnection!
    friends: [User!]!
  }
  type UserConnection {
    edges: [UserEdge!]!
  }
  type UserEdge {
    node: User!
  }
  type EntryConnection {
    edges: [EntryEdge!]!
    nodes: [Entry!]!
  }
  type EntryEdge {
    node: Entry!
  }
  type Entry {
    id: ID!
    author: User
  }
`;
const supergraph = parse(SDL);
const schema = buildASTSchema(supergraph);

function measure(query: string, options: Parameters<typeof measureOperation>[3] = {}) {
  const document = parse(query);
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  )!;
  return measureOperation(schema, document, operation, options);
}

function refusal(
  query: string,
  limits: Partial<OperationLimits> = {},
  production = true,
  variables?: Record<string, unknown>,
) {
  const guard = createOperationLimits({ supergraph, limits, production, introspection: false });
  try {
    guard.checkQuery(query, variables);
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message };
    throw error;
  }
  return undefined;
}

describe('measureOperation', () => {
  it('counts depth as the longest chain of nested fields', () => {
    expect(measure('{ stats { entries } }').depth).toBe(2);
    expect(measure('{ me { entries { edges { node { author { id } } } } } }').depth).toBe(6);
  });

  it('follows fragments and inline fragments for depth, aliases and root fields', () => {
    const measured = measure(`
      { ...Root a: stats { entries } }
      fragment Root on Query { b: stats { entries } me { ... on User { c: id entries { edges { node { id } } } } } }
    `);
    expect(measured).toMatchObject({ depth: 5, aliases: 3, rootFields: 3 });
  });

  it('counts aliases once per place a fragment is spread', () => {
    expect(measure('{ x: me { ...F } y: me { ...F } } fragment F on User { a: id b: name }').aliases).toBe(6);
  });

  it('survives fragment cycles (validation refuses them later)', () => {
    const measured = measure('{ me { ...A } } fragment A on User { friends { ...B } } fragment B on User { ...A id }');
    expect(measured.depth).toBeGreaterThan(0);
  });

  it('stays linear when fragments spread each other twice at every level', () => {
    const levels = 40;
    let fragments = 'fragment F0 on User { id }';
    for (let level = 1; level <= levels; level++)
      fragments += ` fragment F${level} on User { ...F${level - 1} ... on User { ...F${level - 1} } }`;
    const started = performance.now();
    measure(`{ me { ...F${levels} } } ${fragments}`);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('counts directives on fields, spreads, inline fragments and the operation', () => {
    const measured = measure(
      'query Q @a { me @include(if: true) { id @skip(if: false) ...F @b ... @c { name } } } fragment F on User { id @d }',
    );
    expect(measured.directives).toBe(6);
  });

  it('costs composite fields 1 and leaves 0', () => {
    expect(measure('{ stats { entries } me { id name } }').cost).toBe(2);
  });

  it('sizes a connection by its first argument, its schema default, or a sent variable', () => {
    // users(first: 20) → 1 connection + 20 edges + 20 nodes
    expect(measure('{ users { edges { node { id } } } }').cost).toBe(41);
    expect(measure('{ users(first: 2) { edges { node { id } } } }').cost).toBe(5);
    expect(
      measure('query ($n: Int) { users(first: $n) { edges { node { id } } } }', { variables: { n: 3 } }).cost,
    ).toBe(7);
    expect(measure('query ($n: Int = 4) { users(first: $n) { edges { node { id } } } }').cost).toBe(9);
  });

  it('multiplies nested lists', () => {
    // 1 + 2 edges + 2 nodes + 2 × (entries(first: 3): 1 + 3 edges + 3 nodes)
    expect(measure('{ users(first: 2) { edges { node { entries(first: 3) { edges { node { id } } } } } } }').cost).toBe(
      19,
    );
  });

  it('assumes defaultListSize for lists without first/last', () => {
    expect(measure('{ me { friends { id } } }', { defaultListSize: 7 }).cost).toBe(8);
    expect(measure('{ recent(last: 4) { id } }').cost).toBe(4);
  });

  it('costs a mutation root field 10', () => {
    expect(measure('mutation { touch }').cost).toBe(10);
  });

  it('leaves out introspection when asked to', () => {
    const query = '{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }';
    expect(measure(query).depth).toBe(8);
    expect(measure(query, { countIntrospection: false }).depth).toBe(0);
  });

  it('stays finite however deep lists nest', () => {
    let query = '{ me { ';
    for (let level = 0; level < 400; level++) query += 'friends { ';
    query += 'id' + ' }'.repeat(402);
    const { cost } = measure(query);
    expect(Number.isFinite(cost)).toBe(true);
    expect(cost).toBeGreaterThan(1e300);
  });
});

describe('createOperationLimits', () => {
  it('answers each breach with its own code and 400', () => {
    expect(refusal('{ me { entries { edges { node { id } } } } }', { maxDepth: 4 })).toMatchObject({
      status: 400,
      code: 'MAX_DEPTH_EXCEEDED',
    });
    expect(refusal('{ a: stats { entries } b: stats { entries } }', { maxAliases: 1 })?.code).toBe(
      'MAX_ALIASES_EXCEEDED',
    );
    expect(refusal('{ stats { entries } me { id } tags }', { maxRootFields: 2 })?.code).toBe(
      'MAX_ROOT_FIELDS_EXCEEDED',
    );
    expect(refusal('{ me @include(if: true) @skip(if: false) { id } }', { maxDirectives: 1 })?.code).toBe(
      'MAX_DIRECTIVES_EXCEEDED',
    );
    expect(refusal('{ me { id name } }', { maxTokens: 5 })?.code).toBe('MAX_TOKENS_EXCEEDED');
    expect(refusal('{ users(first: 100) { edges { node { id } } } }', { maxCost: 200 })?.code).toBe(
      'MAX_COST_EXCEEDED',
    );
  });

  it('lets an operation within every limit through, and leaves syntax errors to Apollo', () => {
    expect(refusal('{ me { id entries { edges { node { id } } } } stats { entries } }')).toBeUndefined();
    expect(refusal('{ me { id ')).toBeUndefined();
  });

  it('uses sent variables for the cost', () => {
    const query = 'query ($n: Int) { users(first: $n) { edges { node { id } } } }';
    expect(refusal(query, { maxCost: 100 }, true, { n: 10 })).toBeUndefined();
    expect(refusal(query, { maxCost: 100 }, true, { n: 1000 })?.code).toBe('MAX_COST_EXCEEDED');
  });

  it('remembers only passes without variables: the same text with variables is measured again', () => {
    const guard = createOperationLimits({
      supergraph,
      limits: { maxCost: 100 },
      production: true,
      introspection: false,
    });
    const query = 'query ($n: Int = 1) { users(first: $n) { edges { node { id } } } }';
    guard.checkQuery(query, undefined);
    guard.checkQuery(query, {});
    expect(() => guard.checkQuery(query, { n: 1000 })).toThrow(/too expensive|cost/i);
    const deep = '{ me { entries { edges { node { author { id } } } } } }';
    const strict = createOperationLimits({
      supergraph,
      limits: { maxDepth: 3 },
      production: true,
      introspection: false,
    });
    for (let attempt = 0; attempt < 2; attempt++) expect(() => strict.checkQuery(deep, undefined)).toThrow(HttpError);
  });

  it('never echoes the configured limit in production, and explains it in development', () => {
    const query = '{ me { entries { edges { node { id } } } } }';
    const production = refusal(query, { maxDepth: 3 }, true)!;
    expect(production.message).toBe('Query is nested too deeply');
    const development = refusal(query, { maxDepth: 3 }, false)!;
    expect(development.message).toContain('5 where the limit (maxDepth) is 3');
    expect(refusal('{ me { id name } }', { maxTokens: 5 }, true)!.message).not.toMatch(/\d/);
  });

  it('refuses JSON batches unless enabled, and then caps them', () => {
    const request = { method: 'POST', url: '/graphql' } as IncomingMessage;
    const off = createOperationLimits({ supergraph, production: true, introspection: false });
    expect(off.allowBatchedHttpRequests).toBe(false);
    expect(() => off.checkHttpRequest(request, [{ query: '{ me { id } }' }])).toThrow(
      expect.objectContaining({ status: 400, code: 'BATCH_REQUESTS_DISABLED' }),
    );
    const on = createOperationLimits({
      supergraph,
      production: true,
      introspection: false,
      limits: { maxBatchSize: 2 },
    });
    expect(on.allowBatchedHttpRequests).toBe(true);
    expect(() =>
      on.checkHttpRequest(request, [{ query: '{ me { id } }' }, { query: '{ stats { entries } }' }]),
    ).not.toThrow();
    expect(() =>
      on.checkHttpRequest(
        request,
        Array.from({ length: 3 }, () => ({ query: '{ me { id } }' })),
      ),
    ).toThrow(expect.objectContaining({ code: 'MAX_BATCH_SIZE_EXCEEDED' }));
    // Each operation of an allowed batch is checked too.
    expect(() =>
      on.checkHttpRequest(request, [{ query: '{ me { id } }' }, { query: '{ me @a @b { id } }' }]),
    ).not.toThrow();
    const strict = createOperationLimits({
      supergraph,
      production: true,
      introspection: false,
      limits: { maxBatchSize: 2, maxAliases: 1 },
    });
    expect(() => strict.checkHttpRequest(request, [{ query: '{ a: me { id } b: me { id } }' }])).toThrow(
      expect.objectContaining({ code: 'MAX_ALIASES_EXCEEDED' }),
    );
  });

  it('checks the query of a GET request', () => {
    const guard = createOperationLimits({
      supergraph,
      production: true,
      introspection: false,
      limits: { maxAliases: 1 },
    });
    const query = encodeURIComponent('{ a: me { id } b: me { id } }');
    expect(() =>
      guard.checkHttpRequest({ method: 'GET', url: `/graphql?query=${query}` } as IncomingMessage, undefined),
    ).toThrow(expect.objectContaining({ code: 'MAX_ALIASES_EXCEEDED' }));
  });

  it('refuses limits that are not positive integers', () => {
    expect(() =>
      createOperationLimits({ supergraph, production: true, introspection: false, limits: { maxDepth: 0 } }),
    ).toThrow(/maxDepth/);
  });
});
