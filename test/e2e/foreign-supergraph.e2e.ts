import { readFileSync } from 'node:fs';
import { deadUrl } from '@supergraph/testing';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialSubgraphOf } from '@supergraph/gateway';
import { composeSupergraph } from '../../schema/compose.ts';
import { composeAuthWithProbe, firstCode, postGraphQL } from './harness.ts';
import { startForeignStack, type ForeignStack } from './foreign-stack.ts';

const PRODUCTS_WITH_REVIEWS = '{ products { id name reviews { stars body } } }';

let stack: ForeignStack;

beforeAll(async () => {
  stack = await startForeignStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe('a supergraph with no credential subgraph', () => {
  it('has no credential subgraph to find', () => {
    expect(credentialSubgraphOf(parse(stack.supergraphSdl))).toBeUndefined();
    expect(stack.gateway.subgraphs).toEqual(
      new Map([
        ['catalog', stack.catalog.url],
        ['reviews', stack.reviews.url],
        ['ledger', expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/)],
      ]),
    );
  });

  it('serves a cross-subgraph query anonymously, each subgraph getting its own internal token', async () => {
    const before = { catalog: stack.requests.catalog.length, reviews: stack.requests.reviews.length };
    const result = await stack.gql(PRODUCTS_WITH_REVIEWS);
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      data: {
        products: [
          { id: 'p1', name: 'Quokka plush', reviews: [{ stars: 5, body: 'Smiles back' }] },
          { id: 'p2', name: 'Wombat mug', reviews: [] },
        ],
      },
    });
    const catalogToken = stack.requests.catalog.slice(before.catalog)[0]?.['x-internal-token'];
    const reviewsToken = stack.requests.reviews.slice(before.reviews)[0]?.['x-internal-token'];
    expect(decodeJwt(String(catalogToken))).toMatchObject({ aud: 'catalog', via: 'anonymous' });
    expect(decodeJwt(String(reviewsToken))).toMatchObject({ aud: 'reviews', via: 'anonymous' });
  });

  it.each([
    ['a Bearer token that is no JWT', { authorization: 'Bearer x' }, /accepts no access tokens/],
    [
      'a JWT-shaped Bearer token',
      { authorization: 'Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2ln' },
      /accepts no access tokens/,
    ],
    ['an API key', { 'x-api-key': 'sg_anything' }, /accepts no API keys or session tokens/],
    ['a session token', { 'x-session-token': 'session-anything' }, /accepts no API keys or session tokens/],
  ])(
    'refuses %s with 401 UNAUTHENTICATED and says why, without calling a subgraph',
    async (_name, headers, message) => {
      const before = stack.requests.catalog.length + stack.requests.reviews.length;
      const result = await stack.gql(PRODUCTS_WITH_REVIEWS, undefined, headers);
      expect(result.status).toBe(401);
      expect(firstCode(result)).toBe('UNAUTHENTICATED');
      expect(result.body.errors?.[0]?.message).toMatch(message);
      expect(result.body.data ?? null).toBeNull();
      expect(stack.requests.catalog.length + stack.requests.reviews.length).toBe(before);
    },
  );

  it('answers 503 SERVICE_UNAVAILABLE for an API key or session token when the credential endpoint is down', async () => {
    const gateway = await stack.startGatewayWith({ credentials: { url: await deadUrl(), audience: 'accounts' } });
    const credentials: Array<Record<string, string>> = [
      { 'x-api-key': 'sg_anything' },
      { 'x-session-token': 'session-anything' },
    ];
    for (const headers of credentials) {
      const result = await postGraphQL(gateway.url, { query: PRODUCTS_WITH_REVIEWS }, headers);
      expect(result.status).toBe(503);
      expect(firstCode(result)).toBe('SERVICE_UNAVAILABLE');
      expect(result.headers.get('retry-after')).toBe('1');
      expect(JSON.stringify(result.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    }
    // Anonymous traffic does not need the credential endpoint.
    const anonymous = await postGraphQL(gateway.url, { query: '{ products { id } }' });
    expect(anonymous.body.errors).toBeUndefined();
  });
});

describe('value completion', () => {
  it('nulls what a subgraph wrongly left null and never shows clients the internal report', async () => {
    const result = await stack.gql('{ ledger { owner balance } products { id } }');
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      data: { ledger: null, products: [{ id: 'p1' }, { id: 'p2' }] },
      errors: [
        {
          message: 'Internal server error',
          path: ['ledger', 'balance'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ],
    });
    expect(JSON.stringify(result.body)).not.toMatch(/valueCompletion|non-nullable|Ledger\.balance/);
  });
});

describe('credentialSubgraphOf on composed supergraphs', () => {
  it('finds auth in ours, whichever subgraphs sit beside it', () => {
    expect(credentialSubgraphOf(parse(composeSupergraph()))).toBe('auth');
    expect(credentialSubgraphOf(parse(composeAuthWithProbe()))).toBe('auth');
  });

  it('finds auth when it is the only subgraph (its Query fields then carry no @join__field)', () => {
    const authSdl = readFileSync(new URL('../../subgraphs/auth/src/schema.graphql', import.meta.url), 'utf8');
    const alone = composeServices([{ name: 'auth', url: 'http://127.0.0.1:4001/graphql', typeDefs: parse(authSdl) }]);
    expect(alone.errors).toBeUndefined();
    expect(credentialSubgraphOf(parse(alone.supergraphSdl ?? ''))).toBe('auth');
  });
});
