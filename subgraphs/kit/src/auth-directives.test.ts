import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { enforceAuthDirectives } from './auth-directives.ts';
import { ANONYMOUS, type Identity } from '@supergraph/platform';

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes"])
  type Query {
    open: String
    secret: String @authenticated
    adminOnly: String @requiresScopes(scopes: [["admin"], ["root", "ops"]])
    profile: Profile
  }
  type Profile @authenticated { name: String }
`);
const schema = enforceAuthDirectives(
  buildSubgraphSchema({
    typeDefs,
    resolvers: { Query: { open: () => 'o', secret: () => 's', adminOnly: () => 'a', profile: () => ({ name: 'n' }) } },
  }),
);

const user: Identity = { userId: 'u', roles: ['user'], scopes: ['chat'], tier: 'free', via: 'jwt' };
async function run(query: string, identity: Identity) {
  return execute({ schema, document: parse(query), contextValue: { identity } });
}

describe('enforceAuthDirectives', () => {
  it('lets anyone read unguarded fields', async () => {
    expect((await run('{ open }', ANONYMOUS)).data).toEqual({ open: 'o' });
  });

  it('answers UNAUTHENTICATED for @authenticated fields and types when anonymous', async () => {
    const result = await run('{ secret profile { name } }', ANONYMOUS);
    expect(result.errors?.map((error) => error.extensions['code'])).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect((await run('{ secret profile { name } }', user)).data).toEqual({ secret: 's', profile: { name: 'n' } });
  });

  it('applies @requiresScopes as OR of ANDs', async () => {
    expect((await run('{ adminOnly }', user)).errors?.[0]?.extensions['code']).toBe('FORBIDDEN');
    expect((await run('{ adminOnly }', { ...user, scopes: ['root'] })).errors?.[0]?.extensions['code']).toBe(
      'FORBIDDEN',
    );
    expect((await run('{ adminOnly }', { ...user, scopes: ['root', 'ops'] })).data).toEqual({ adminOnly: 'a' });
    expect((await run('{ adminOnly }', { ...user, scopes: ['admin'] })).data).toEqual({ adminOnly: 'a' });
    expect((await run('{ adminOnly }', ANONYMOUS)).errors?.[0]?.extensions['code']).toBe('UNAUTHENTICATED');
  });
});
