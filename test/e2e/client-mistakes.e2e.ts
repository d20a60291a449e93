import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstCode, postGraphQL, startStack, type Stack } from './harness.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ supergraph: 'probe' });
});

afterAll(async () => {
  await stack?.stop();
});

/** Text that would mean a response leaked internals. */
const INTERNALS =
  /\bat [\w.<>]+ \(|node_modules|\.[jt]s:\d+|stacktrace|relation "|syntax error at or near|postgres|ECONN/i;

describe('client mistakes answer 4xx with a stable code, never 500', () => {
  const MULTI = 'query A { probePublic } query B { probePublic }';
  const cases: Array<[string, unknown, number, string]> = [
    ['a subscription over plain POST', { query: 'subscription { probePublic }' }, 400, 'SUBSCRIPTIONS_NOT_SUPPORTED'],
    ['an unknown operationName', { query: MULTI, operationName: 'C' }, 400, 'OPERATION_RESOLUTION_FAILURE'],
    ['no operationName for several operations', { query: MULTI }, 400, 'OPERATION_RESOLUTION_FAILURE'],
    ['a NUL byte in operationName', { query: MULTI, operationName: 'A\u0000' }, 400, 'OPERATION_RESOLUTION_FAILURE'],
    ['an unsupported persisted-query version', { extensions: { persistedQuery: 'x' } }, 400, 'BAD_REQUEST'],
  ];

  it.each(cases)('%s', async (_name, body, status, code) => {
    const before = stack.probe!.requests.length;
    const result = await postGraphQL(stack.gateway.url, body);
    expect(result.status).toBe(status);
    expect(firstCode(result)).toBe(code);
    expect(stack.probe!.requests.length).toBe(before);
  });

  it('still runs the named operation of a multi-operation document', async () => {
    const result = await postGraphQL(stack.gateway.url, { query: MULTI, operationName: 'B' });
    expect(result.body).toEqual({ data: { probePublic: 'public' } });
  });
});

/** Deterministic PRNG (mulberry32), so a failing input can be replayed from its seed and index. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

const SEED = 20_261_122;
const REQUESTS = 400;

const DOCUMENTS = [
  '{ probePublic }',
  '{ probeSecret }',
  '{ probeWhoAmI { via tier } }',
  'query Q($ms: Int!) { probeSlow(ms: $ms) }',
  'query($at: ProbeDate!) { probeEcho(at: $at) }',
  'query A { probePublic } query B { probePublic }',
  'mutation { logout }',
  'subscription S { probePublic }',
  '{ me { id probeNote } }',
  'fragment F on Query { probePublic } { ...F }',
  '{ __typename }',
  '{ __schema { types { name } } }',
];
const TOKENS = [
  '{',
  '}',
  '(',
  ')',
  '$',
  '...',
  '@skip',
  'query',
  'mutation',
  'subscription',
  'fragment',
  ':',
  '"',
  '#',
  '\u0000',
  '\ufeff',
  '\ud800',
  'é',
  '1e309',
  'on',
  '!',
  '[',
  ']',
];
const JUNK = [
  null,
  true,
  false,
  0,
  -1,
  Number.MAX_VALUE,
  'x',
  '',
  '\u0000',
  [],
  {},
  [[[]]],
  { __proto__: { a: 1 } },
  'A'.repeat(300),
];

function fuzzedRequest(rng: ReturnType<typeof random>): {
  method: string;
  search: string;
  headers: Record<string, string>;
  body?: string;
} {
  const document = () => {
    const base = rng.pick(DOCUMENTS);
    switch (rng.int(4)) {
      case 0:
        return base;
      case 1: {
        const at = rng.int(base.length + 1);
        return base.slice(0, at) + rng.pick(TOKENS) + base.slice(at);
      }
      case 2:
        return base.slice(0, rng.int(base.length));
      default:
        return Array.from({ length: rng.int(12) }, () => rng.pick(TOKENS)).join(' ');
    }
  };
  const value = (): unknown => (rng.next() < 0.5 ? rng.pick(JUNK) : document());
  const payload: Record<string, unknown> = {};
  if (rng.next() < 0.9) payload['query'] = rng.next() < 0.85 ? document() : value();
  if (rng.next() < 0.4) payload['operationName'] = rng.pick(['A', 'B', 'Q', 'S', 'C', 'A\u0000', '', null, 5, {}]);
  if (rng.next() < 0.4)
    payload['variables'] = rng.pick([{ ms: 1 }, { ms: 'x' }, { at: 'yesterday' }, { at: '2026-11-22' }, value()]);
  if (rng.next() < 0.2)
    payload['extensions'] = rng.pick([
      { persistedQuery: { version: 1, sha256Hash: 'abc' } },
      { persistedQuery: rng.pick(JUNK) },
      value(),
    ]);
  let body = JSON.stringify(rng.next() < 0.1 ? [payload, payload] : rng.next() < 0.05 ? value() : payload) ?? 'null';
  if (rng.next() < 0.1) body = body.slice(0, rng.int(body.length));
  if (rng.next() < 0.05) body = Buffer.from(Array.from({ length: rng.int(64) }, () => rng.int(256))).toString('latin1');

  const headers: Record<string, string> = {};
  const contentType = rng.pick([
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'application/graphql-response+json',
    'application/graphql',
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    'application/json; charset=latin1',
    '',
  ]);
  if (contentType) headers['content-type'] = contentType;
  if (rng.next() < 0.7)
    headers['accept'] = rng.pick([
      'application/json',
      'application/graphql-response+json',
      '*/*',
      'text/html',
      'multipart/mixed',
      'multipart/mixed;deferSpec=20220824',
      'application/json;q=0',
      'application/graphql-response+json, application/json;q=0.9',
      ';;;q=x, ,',
    ]);
  if (rng.next() < 0.3) headers['apollo-require-preflight'] = 'true';
  if (rng.next() < 0.2)
    headers['authorization'] = rng.pick([
      'Bearer x',
      'Bearer ',
      'Basic abc',
      'Bearer a.b.c',
      'bearer' + 'A'.repeat(100),
    ]);
  if (rng.next() < 0.1) headers['x-api-key'] = rng.pick(['', 'sk_x', 'A'.repeat(500)]);
  if (rng.next() < 0.1) headers['x-session-token'] = rng.pick(['', 'st_x']);
  if (rng.next() < 0.1) headers['x-request-id'] = rng.pick(['', 'a b', 'A'.repeat(500), '../..']);
  if (rng.next() < 0.1)
    headers['traceparent'] = rng.pick(['00-zz', '00-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-01']);
  if (rng.next() < 0.1) headers['origin'] = rng.pick(['https://evil.test', 'null', 'http://app.allowed.test']);

  const method = rng.pick(['POST', 'POST', 'POST', 'GET', 'GET', 'PUT', 'DELETE', 'PATCH']);
  const params = new URLSearchParams();
  if (method === 'GET' || rng.next() < 0.1) {
    if (rng.next() < 0.9) params.set('query', document());
    if (rng.next() < 0.3) params.set('variables', rng.pick(['{', '{"ms":1}', 'null', '[]', '"x"']));
    if (rng.next() < 0.2) params.set('extensions', rng.pick(['{', '{"persistedQuery":1}', 'null']));
    if (rng.next() < 0.2) params.set('operationName', rng.pick(['A', 'C', '\u0000']));
  }
  const search = params.size > 0 ? `?${params}` : rng.next() < 0.05 ? '?%E0%A4%A' : '';
  return { method, search, headers, ...(method === 'GET' ? {} : { body }) };
}

describe('fuzzed requests', () => {
  it(`${REQUESTS} malformed requests (seed ${SEED}): no 5xx, no internals in any answer`, async () => {
    const rng = random(SEED);
    const requests = Array.from({ length: REQUESTS }, () => fuzzedRequest(rng));
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let index = 0; index < requests.length; index += 8) {
      await Promise.all(
        requests.slice(index, index + 8).map(async (request, offset) => {
          const response = await fetch(stack.gateway.url + request.search, {
            method: request.method,
            headers: request.headers,
            ...(request.body !== undefined ? { body: request.body } : {}),
          });
          const text = await response.text();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          // Development's landing page (a GET accepting text/html) is static HTML and script, not an answer.
          const isLandingPage = response.headers.get('content-type')?.startsWith('text/html') ?? false;
          if (response.status >= 500 || (!isLandingPage && INTERNALS.test(text)))
            failures.push(`#${index + offset} ${JSON.stringify(request)} → ${response.status} ${text.slice(0, 300)}`);
        }),
      );
    }
    expect(failures).toEqual([]);
    // The corpus reaches the interesting answers, not only one kind of refusal.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 401, 405]));
  });
});
