import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '@supergraph/gateway';
import { composeSupergraph } from '../../schema/compose.ts';
import { firstCode, postGraphQL, startStack, type GraphQLResult, type Stack } from './harness.ts';

let stack: Stack;
let probe: NonNullable<Stack['probe']>;
/** The probe stack's gateway in production mode with the default limits. */
let production: RunningGateway;
/** The whole supergraph in production; every subgraph but auth is a server that only counts requests. */
let everything: RunningGateway;
let everythingLoose: RunningGateway;
let counter: Server;
let counted = 0;

beforeAll(async () => {
  stack = await startStack({ supergraph: 'probe' });
  probe = stack.probe!;
  production = await stack.startGatewayWith({ production: true });
  counter = createServer((req, res) => {
    counted++;
    req.resume();
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"message":"counted"}]}');
  });
  await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
  const counterUrl = `http://127.0.0.1:${(counter.address() as AddressInfo).port}/graphql`;
  const supergraphSdl = composeSupergraph();
  const subgraphUrls = { auth: stack.auth.url, knowledge: counterUrl, 'storage-units': counterUrl };
  everything = await stack.startGatewayWith({ production: true, supergraphSdl, subgraphUrls });
  // Tokens raised far beyond the default, so the other limits meet the issue's attacks themselves.
  everythingLoose = await stack.startGatewayWith({
    production: true,
    supergraphSdl,
    subgraphUrls,
    operationLimits: { maxTokens: 100_000 },
  });
});

afterAll(async () => {
  await new Promise((resolve) => counter?.close(resolve));
  await stack?.stop();
});

/** Sends `body` and asserts no subgraph (auth, probe, the counting stand-ins) saw a request. */
async function sendUnseen(url: string, body: unknown): Promise<GraphQLResult> {
  const before = { probe: probe.requests.length, auth: stack.authRequests(), counted };
  const result = await postGraphQL(url, body);
  expect({ probe: probe.requests.length, auth: stack.authRequests(), counted }).toEqual(before);
  return result;
}

const repeat = (count: number, make: (index: number) => string) =>
  Array.from({ length: count }, (_, index) => make(index)).join(' ');

/** A breach of each default limit, through the probe stack (auth + probe). */
const BREACHES: Array<[code: string, query: string]> = [
  ['MAX_DEPTH_EXCEEDED', '{ me { a { b { c { d { e { f { g { h } } } } } } } } }'],
  ['MAX_ALIASES_EXCEEDED', `{ ${repeat(16, (index) => `a${index}: probePublic`)} }`],
  ['MAX_ROOT_FIELDS_EXCEEDED', `{ ${repeat(21, () => 'probePublic')} }`],
  ['MAX_DIRECTIVES_EXCEEDED', `{ probePublic ${repeat(51, () => '@include(if: true)')} }`],
  ['MAX_TOKENS_EXCEEDED', `{ probePublic ${repeat(1_000, () => '__typename')} }`],
  ['MAX_COST_EXCEEDED', '{ users(first: 3000) { edges { node { id } } } }'],
];

describe('operation limits at the gateway', () => {
  it('lets a normal query through', async () => {
    const before = probe.requests.length;
    for (const url of [stack.gateway.url, production.url]) {
      const result = await postGraphQL(url, { query: '{ probePublic probeWhoAmI { via tier } }' });
      expect(result.status).toBe(200);
      expect(result.body.data?.['probePublic']).toBe('public');
    }
    expect(probe.requests.length).toBeGreaterThan(before);
  });

  it.each(BREACHES)('answers %s with 400 before any subgraph is called', async (code, query) => {
    const result = await sendUnseen(production.url, { query });
    expect(result.status).toBe(400);
    expect(firstCode(result)).toBe(code);
    expect(result.body.data).toBeUndefined();
  });

  it('never echoes a configured limit in production, and names it in development', async () => {
    for (const [, query] of BREACHES) {
      const result = await sendUnseen(production.url, { query });
      expect(result.body.errors?.[0]?.message).not.toMatch(/\d/);
    }
    const development = await sendUnseen(stack.gateway.url, { query: BREACHES[1]![1] });
    expect(firstCode(development)).toBe('MAX_ALIASES_EXCEEDED');
    expect(development.body.errors?.[0]?.message).toContain('16 where the limit (maxAliases) is 15');
  });

  it('applies the limits configured per gateway, to GET requests too', async () => {
    const strict = await stack.startGatewayWith({ operationLimits: { maxDepth: 2 } });
    expect((await postGraphQL(strict.url, { query: '{ probeWhoAmI { via } }' })).body.errors).toBeUndefined();
    const query = encodeURIComponent('{ me { sessions { id } } }');
    const before = probe.requests.length + stack.authRequests();
    const response = await fetch(`${strict.url}?query=${query}`, { headers: { 'apollo-require-preflight': '1' } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as GraphQLResult['body']).errors?.[0]?.extensions?.['code']).toBe(
      'MAX_DEPTH_EXCEEDED',
    );
    expect(probe.requests.length + stack.authRequests()).toBe(before);
  });

  it('refuses JSON batches unless enabled, then caps them', async () => {
    const refused = await sendUnseen(production.url, [{ query: '{ probePublic }' }, { query: '{ probePublic }' }]);
    expect(refused.status).toBe(400);
    expect(firstCode(refused)).toBe('BATCH_REQUESTS_DISABLED');

    const batching = await stack.startGatewayWith({ production: true, operationLimits: { maxBatchSize: 2 } });
    const allowed = await postGraphQL(batching.url, [{ query: '{ probePublic }' }, { query: '{ probePublic }' }]);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual([{ data: { probePublic: 'public' } }, { data: { probePublic: 'public' } }]);
    const tooMany = await sendUnseen(
      batching.url,
      Array.from({ length: 3 }, () => ({ query: '{ probePublic }' })),
    );
    expect(tooMany.status).toBe(400);
    expect(firstCode(tooMany)).toBe('MAX_BATCH_SIZE_EXCEEDED');
  });
});

describe('the issue’s attacks on the whole supergraph', () => {
  const aliasAttack = `{ ${repeat(400, (index) => `s${index}: knowledgeStats { entries sizeBytes }`)} }`;
  let deepAttack = '{ searchKnowledge(query: "x") { edges { node { ';
  for (let level = 0; level < 400; level++) deepAttack += 'author { knowledgeEntries { edges { node { ';
  deepAttack += 'id' + ' } } } }'.repeat(401);

  it('a normal knowledge query still reaches the knowledge subgraph', async () => {
    const before = counted;
    await postGraphQL(everything.url, { query: '{ knowledgeStats { entries } }' });
    expect(counted).toBe(before + 1);
  });

  it.each([
    ['400 aliases of knowledgeStats', aliasAttack, 'MAX_TOKENS_EXCEEDED', 'MAX_ALIASES_EXCEEDED'],
    ['1,600 levels of nesting', deepAttack, 'MAX_TOKENS_EXCEEDED', 'MAX_DEPTH_EXCEEDED'],
  ])('refuses %s quickly, calling no subgraph', async (_name, query, byDefault, withTokensRaised) => {
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(firstCode(await sendUnseen(everything.url, { query }))).toBe(byDefault);
      const loose = await sendUnseen(everythingLoose.url, { query });
      expect(loose.status).toBe(400);
      expect(firstCode(loose)).toBe(withTokensRaised);
    }
    // Ten refusals; unlimited, one of these took the gateway 2.5-8.5 s and up to 3.7 GB.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(200 * 1024 * 1024);
  });
});

describe('field suggestions', () => {
  it('are hidden in production and shown in development', async () => {
    const hidden = await postGraphQL(production.url, { query: '{ mee { id } }' });
    expect(firstCode(hidden)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(hidden.body.errors?.[0]?.message).toContain('Cannot query field "mee"');
    expect(JSON.stringify(hidden.body)).not.toContain('Did you mean');

    const shown = await postGraphQL(stack.gateway.url, { query: '{ mee { id } }' });
    expect(shown.body.errors?.[0]?.message).toContain('Did you mean "me"?');
  });

  it('follow fieldSuggestions when it is set', async () => {
    const quiet = await stack.startGatewayWith({ fieldSuggestions: false });
    const result = await postGraphQL(quiet.url, { query: '{ mee { id } }' });
    expect(JSON.stringify(result.body)).not.toContain('Did you mean');
    const chatty = await stack.startGatewayWith({ production: true, fieldSuggestions: true });
    expect((await postGraphQL(chatty.url, { query: '{ mee { id } }' })).body.errors?.[0]?.message).toContain(
      'Did you mean "me"?',
    );
  });
});
