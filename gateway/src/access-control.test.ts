import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS, loadScopeCatalog, type Identity } from '@supergraph/platform';
import { createAccessControl } from './access-control.ts';
import { subgraphsOf } from './supergraph-graphs.ts';

const supergraph = parse(/* GraphQL */ `
  schema @link(url: "https://specs.apollo.dev/link/v1.0") {
    query: Query
  }
  directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
  directive @requiresScopes(
    scopes: [[requiresScopes__Scope!]!]!
  ) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
  directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
  directive @join__graph(name: String!, url: String!) on ENUM_VALUE
  scalar requiresScopes__Scope
  scalar link__Import
  enum link__Purpose {
    SECURITY
    EXECUTION
  }
  enum join__Graph {
    AUTH @join__graph(name: "auth", url: "http://127.0.0.1:4001/graphql")
    STORAGE_UNITS @join__graph(name: "storage-units", url: "http://127.0.0.1:4003/graphql")
  }
  type Query {
    public: String
    me: User
    secret: String @authenticated
    admin: String @requiresScopes(scopes: [["admin"], ["x", "y"]])
    vault: Vault
  }
  type User {
    id: ID!
    notes: [String] @requiresScopes(scopes: [["notes:read"]])
  }
  type Vault @authenticated {
    id: ID!
  }
`);

const user: Identity = {
  userId: 'u1',
  roles: ['user'],
  scopes: [...loadScopeCatalog().user],
  tier: 'free',
  via: 'jwt',
};
const { check } = createAccessControl(supergraph);

function run(query: string, identity: Identity) {
  const document = parse(query);
  const operation = document.definitions.find((definition) => definition.kind === 'OperationDefinition');
  if (operation?.kind !== 'OperationDefinition') throw new Error('no operation');
  try {
    check(document, operation, identity);
    return 'ok';
  } catch (error) {
    return (error as { extensions: { code: string } }).extensions.code;
  }
}

describe('access control', () => {
  it('lets anyone read unguarded fields', () => {
    expect(run('{ public me { id } }', ANONYMOUS)).toBe('ok');
  });

  it('requires authentication for @authenticated fields and types', () => {
    expect(run('{ secret }', ANONYMOUS)).toBe('UNAUTHENTICATED');
    expect(run('{ vault { id } }', ANONYMOUS)).toBe('UNAUTHENTICATED');
    expect(run('{ secret vault { id } }', user)).toBe('ok');
  });

  it('checks scopes, inside fragments and inline fragments too', () => {
    expect(run('{ me { ...F } } fragment F on User { notes }', user)).toBe('FORBIDDEN');
    expect(run('{ me { ... on User { notes } } }', ANONYMOUS)).toBe('UNAUTHENTICATED');
    expect(run('{ me { notes } }', { ...user, scopes: ['notes:read'] })).toBe('ok');
  });

  it('accepts any one alternative of @requiresScopes', () => {
    expect(run('{ admin }', user)).toBe('FORBIDDEN');
    expect(run('{ admin }', { ...user, scopes: ['x'] })).toBe('FORBIDDEN');
    expect(run('{ admin }', { ...user, scopes: ['x', 'y'] })).toBe('ok');
    expect(run('{ admin }', { ...user, scopes: ['admin'] })).toBe('ok');
  });

  it('only checks the fragments the chosen operation uses', () => {
    const document = parse('query A { public } query B { ...S } fragment S on Query { secret }');
    const operation = document.definitions[0];
    if (operation?.kind !== 'OperationDefinition') throw new Error('no operation');
    expect(() => check(document, operation, ANONYMOUS)).not.toThrow();
  });
});

describe('subgraphsOf', () => {
  it('reads subgraph names and routing URLs from join__Graph', () => {
    expect([...subgraphsOf(supergraph)]).toEqual([
      ['auth', 'http://127.0.0.1:4001/graphql'],
      ['storage-units', 'http://127.0.0.1:4003/graphql'],
    ]);
  });
});
