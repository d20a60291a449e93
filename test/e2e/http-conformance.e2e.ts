import { auditServer, type AuditRequirement, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstCode, postGraphQL, startStack, type Stack } from './harness.ts';

let stack: Stack;
let results: AuditResult[];

beforeAll(async () => {
  stack = await startStack({ supergraph: 'probe' });
  results = await auditServer({ url: stack.gateway.url });
});

afterAll(async () => {
  await stack?.stop();
});

function tally(level: AuditRequirement) {
  const audits = results.filter((result) => result.name.startsWith(`${level} `));
  const failed = audits.filter((result) => result.status !== 'ok');
  return { passed: audits.length - failed.length, total: audits.length, failed: failed.map((result) => result.name) };
}

/** graphql-http's `serverAudits` (the GraphQL-over-HTTP spec's conformance suite) against the real gateway. */
describe('GraphQL over HTTP conformance', () => {
  it('passes every MUST and every SHOULD (200 for request errors under an explicit application/json)', () => {
    expect(tally('MUST')).toEqual({ passed: 13, total: 13, failed: [] });
    expect(tally('SHOULD')).toEqual({ passed: 23, total: 23, failed: [] });
  });

  it('passes MAY 22/25: the three misses are GETs without a preflight header, which CSRF prevention refuses', () => {
    expect(tally('MAY')).toEqual({
      passed: 22,
      total: 25,
      failed: [
        'MAY accept application/x-www-form-urlencoded formatted GET requests',
        'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json',
        'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json',
      ],
    });
  });
});

describe('status codes for request errors', () => {
  const invalid = { query: '{ probeNope }' };

  it('answers 200 under Accept: application/json, 4xx under application/graphql-response+json', async () => {
    const json = await postGraphQL(stack.gateway.url, invalid, { accept: 'application/json' });
    expect(json.status).toBe(200);
    expect(firstCode(json)).toBe('GRAPHQL_VALIDATION_FAILED');
    const graphqlResponse = await postGraphQL(stack.gateway.url, invalid, {
      accept: 'application/graphql-response+json, application/json;q=0.9',
    });
    expect(graphqlResponse.status).toBe(400);
    expect(graphqlResponse.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
  });

  it('keeps 400 for a wildcard Accept and for malformed requests, CSRF refusals included', async () => {
    expect((await postGraphQL(stack.gateway.url, invalid, { accept: '*/*' })).status).toBe(400);
    const noQuery = await postGraphQL(stack.gateway.url, { variables: {} }, { accept: 'application/json' });
    expect(noQuery.status).toBe(400);
    expect(firstCode(noQuery)).toBe('BAD_REQUEST');
    const simple = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', accept: 'application/json' },
      body: JSON.stringify({ query: '{ probePublic }' }),
    });
    expect(simple.status).toBe(400);
    const url = new URL(stack.gateway.url);
    url.searchParams.set('query', '{ probePublic }');
    expect((await fetch(url, { headers: { accept: 'application/json' } })).status).toBe(400);
  });
});
