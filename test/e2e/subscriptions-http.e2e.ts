import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { createClient, type ExecutionResult } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestOperationsOf, manifestText, type RunningGateway } from '@supergraph/gateway';
import { PULSE_TYPE_DEFS, startPulseSubgraph, type PulseSubgraph } from '../fixtures/pulse/pulse-subgraph.ts';
import { ALLOWED_ORIGIN, registerAndLogin, startStack, type LoggedIn, type Stack } from './harness.ts';

/**
 * Subscriptions over SSE (graphql-sse's own client) and Apollo's multipart
 * protocol (Apollo Client's own HttpLink) through the real gateway, over the
 * real auth subgraph and a subgraph with subscriptions: events with a field
 * from another subgraph, completion, refusals before the stream (with their
 * status and code, no subgraph called), clean-up when the client leaves, a
 * subgraph dying mid-stream, the gateway stopping, and trusted documents in
 * safelist mode.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PULSES =
  'subscription Pulses($count: Int!, $intervalMs: Int!) { pulses(count: $count, intervalMs: $intervalMs) { n user { id username } } }';
const MULTIPART_ACCEPT = 'multipart/mixed;subscriptionSpec="1.0",application/json';

let stack: Stack;
let pulse: PulseSubgraph;
let gateway: RunningGateway;
let user: LoggedIn & { username: string };
let dir: string;

function supergraphWithPulse(): string {
  const authSdl = readFileSync(path.join(root, 'subgraphs', 'auth', 'src', 'schema.graphql'), 'utf8');
  const result = composeServices([
    { name: 'auth', url: 'http://127.0.0.1:4001/graphql', typeDefs: parse(authSdl) },
    { name: 'pulse', url: 'http://127.0.0.1:4098/graphql', typeDefs: parse(PULSE_TYPE_DEFS) },
  ]);
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join('\n'));
  return result.supergraphSdl;
}

async function startPulseGateway(target: PulseSubgraph, overrides: Parameters<Stack['startGatewayWith']>[0] = {}) {
  return stack.startGatewayWith({
    supergraphSdl: supergraphWithPulse(),
    subgraphUrls: { auth: stack.auth.url, pulse: target.subgraph.url },
    subscriptionHeartbeatMs: { sse: 100, multipart: 100 },
    ...overrides,
  });
}

beforeAll(async () => {
  stack = await startStack({ supergraph: 'probe' });
  const verifyKey = createPublicKey(createPrivateKey(stack.internalPrivateKeyPem));
  pulse = await startPulseSubgraph(verifyKey);
  gateway = await startPulseGateway(pulse);
  user = await registerAndLogin(stack, 'pulse');
  dir = mkdtempSync(path.join(tmpdir(), 'subscriptions-http-'));
});

afterAll(async () => {
  await stack?.stop();
  await pulse?.subgraph.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const bearer = () => ({ authorization: `Bearer ${user.accessToken}` });
const expectedPulse = (n: number) => ({ pulses: { n, user: { id: user.userId, username: user.username } } });
/** What Apollo Client's cache hands out: the same, with the `__typename`s its HttpLink asks for. */
const expectedApolloPulse = (n: number) => ({
  pulses: { __typename: 'Pulse', n, user: { __typename: 'User', id: user.userId, username: user.username } },
});

/** Everything is closed: no stream in the gateway, no upstream socket, no source stream in the subgraph. */
async function expectAllClosed(on: RunningGateway = gateway, subgraph: PulseSubgraph = pulse): Promise<void> {
  await expect
    .poll(() => [on.subscriptions.openStreams(), on.subscriptions.upstreamSockets(), subgraph.openSources()], {
      timeout: 10_000,
    })
    .toEqual([0, 0, 0]);
}

/** Runs a subscription with graphql-sse's client (distinct connections) to its end. */
function sseSubscription(
  url: string,
  request: { query: string; variables?: Record<string, unknown> },
  headers: Record<string, string> = bearer(),
) {
  const client = createClient({ url, singleConnection: false, retryAttempts: 0, headers, fetchFn: fetch });
  const results: Array<ExecutionResult<Record<string, unknown>, unknown>> = [];
  let unsubscribe = () => {};
  const done = new Promise<void>((resolve, reject) => {
    unsubscribe = client.subscribe(request, {
      next: (value) => void results.push(value),
      error: reject,
      complete: resolve,
    });
  });
  return {
    results,
    done,
    stop: () => {
      unsubscribe();
      client.dispose();
    },
  };
}

function apolloClient(url: string, headers: Record<string, string> = bearer()) {
  return new ApolloClient({ link: new HttpLink({ uri: url, fetch, headers }), cache: new InMemoryCache() });
}

/** Runs a subscription with Apollo Client's HttpLink (multipart) and records what its observer sees. */
function apolloSubscription(url: string, variables: Record<string, unknown>, headers?: Record<string, string>) {
  const client = apolloClient(url, headers);
  const seen: Array<{ data?: unknown; error?: unknown }> = [];
  let subscription: { unsubscribe(): void } | undefined;
  const done = new Promise<void>((resolve, reject) => {
    subscription = client.subscribe({ query: gql(PULSES), variables }).subscribe({
      next: (value) => void seen.push(value.error ? { error: value.error } : { data: value.data }),
      error: reject,
      complete: resolve,
    });
  });
  return { seen, done, unsubscribe: () => subscription?.unsubscribe() };
}

/** POSTs a streaming request and reads the body to its end (raw bytes, for what no client library shows). */
async function rawStream(url: string, accept: string, body: unknown, headers: Record<string, string> = bearer()) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The JSON parts of a multipart body, heartbeats (`{}`) left out. */
function multipartParts(text: string): unknown[] {
  return text
    .split('\r\n--graphql')
    .slice(1)
    .filter((part) => part.startsWith('\r\n'))
    .map((part) => JSON.parse(part.slice(part.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>)
    .filter((part) => Object.keys(part).length > 0);
}

/** The `next` payloads of an SSE body. */
function sseEvents(text: string): unknown[] {
  return [...text.matchAll(/^event: next\ndata: (.*)$/gm)].map((match) => JSON.parse(match[1]!) as unknown);
}

describe('SSE (graphql-sse)', () => {
  it("delivers every event, with auth's field on each, then completes (graphql-sse's own client)", async () => {
    const run = sseSubscription(gateway.url, { query: PULSES, variables: { count: 3, intervalMs: 20 } });
    await run.done;
    expect(run.results).toEqual([1, 2, 3].map((n) => ({ data: expectedPulse(n) })));
    run.stop();
    await expectAllClosed();
  });

  it('works over GET, with keep-alive comments while idle, and frames the end as graphql-sse does', async () => {
    const url = new URL(gateway.url);
    url.searchParams.set('query', PULSES);
    url.searchParams.set('variables', JSON.stringify({ count: 2, intervalMs: 350 }));
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', origin: ALLOWED_ORIGIN, ...bearer() },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const text = await response.text();
    expect(sseEvents(text)).toEqual([{ data: expectedPulse(1) }, { data: expectedPulse(2) }]);
    expect((text.match(/^:\n\n/gm) ?? []).length).toBeGreaterThan(1);
    expect(text.endsWith('event: complete\ndata:\n\n')).toBe(true);
  });

  it('closes the upstream when the client leaves', async () => {
    const run = sseSubscription(gateway.url, { query: PULSES, variables: { count: 0, intervalMs: 20 } });
    await expect.poll(() => run.results.length, { timeout: 10_000 }).toBeGreaterThan(1);
    expect(pulse.openSources()).toBe(1);
    run.stop();
    await expectAllClosed();
  });
});

describe("Apollo's multipart protocol (Apollo Client's HttpLink)", () => {
  it("delivers every event, with auth's field on each, then completes; heartbeats between events change nothing", async () => {
    // Events 350 ms apart, heartbeats every 100 ms: several heartbeats arrive while idle.
    const run = apolloSubscription(gateway.url, { count: 3, intervalMs: 350 });
    await run.done;
    expect(run.seen).toEqual([1, 2, 3].map((n) => ({ data: expectedApolloPulse(n) })));
    await expectAllClosed();
  });

  it('writes heartbeat parts while idle and the closing delimiter at the end', async () => {
    const raw = await rawStream(gateway.url, MULTIPART_ACCEPT, {
      query: PULSES,
      variables: { count: 1, intervalMs: 350 },
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"');
    expect(raw.text.split('\r\n\r\n{}').length).toBeGreaterThan(2);
    expect(multipartParts(raw.text)).toEqual([{ payload: { data: expectedPulse(1) } }]);
    expect(raw.text.endsWith('\r\n--graphql--\r\n')).toBe(true);
  });

  it('closes the upstream when the client unsubscribes', async () => {
    const run = apolloSubscription(gateway.url, { count: 0, intervalMs: 20 });
    await expect.poll(() => run.seen.length, { timeout: 10_000 }).toBeGreaterThan(1);
    expect(gateway.subscriptions.upstreamSockets()).toBe(1);
    run.unsubscribe();
    await expectAllClosed();
  });
});

describe('refusals before the stream: status and code, no subgraph called', () => {
  const forged = () => ({ authorization: `Bearer ${user.accessToken.slice(0, -4)}AAAA` });
  const cases: Array<[string, () => Record<string, string>, unknown, number, string]> = [
    [
      'a bad document',
      bearer,
      { query: 'subscription { pulses(count: 1) { nope } }' },
      400,
      'GRAPHQL_VALIDATION_FAILED',
    ],
    ['a syntax error', bearer, { query: 'subscription { pulses(' }, 400, 'GRAPHQL_PARSE_FAILED'],
    [
      'no credential (@authenticated)',
      () => ({}),
      { query: PULSES, variables: { count: 1, intervalMs: 1 } },
      401,
      'UNAUTHENTICATED',
    ],
    [
      'a forged access token',
      forged,
      { query: PULSES, variables: { count: 1, intervalMs: 1 } },
      401,
      'UNAUTHENTICATED',
    ],
    ['a missing scope', bearer, { query: 'subscription { adminPulses { n } }' }, 403, 'FORBIDDEN'],
    ['bad variables', bearer, { query: PULSES, variables: { count: 'x', intervalMs: 1 } }, 400, 'BAD_USER_INPUT'],
  ];

  it.each(cases)('%s over SSE and over multipart', async (_name, headers, body, status, code) => {
    const started = pulse.startedSources();
    for (const accept of ['text/event-stream', MULTIPART_ACCEPT]) {
      const raw = await rawStream(gateway.url, accept, body, headers());
      expect({ accept, status: raw.status }).toEqual({ accept, status });
      expect(raw.headers.get('content-type')).toMatch(/^application\/json/);
      const answer = JSON.parse(raw.text) as { errors: Array<{ extensions: { code: string } }> };
      expect(answer.errors[0]?.extensions.code).toBe(code);
      expect(raw.text).not.toMatch(/stack|at \/|127\.0\.0\.1/);
    }
    expect(pulse.startedSources()).toBe(started);
  });

  it("reach graphql-sse's client as the response's status and Apollo Client as coded GraphQL errors", async () => {
    const sse = sseSubscription(gateway.url, { query: PULSES, variables: { count: 1, intervalMs: 1 } }, {});
    const failure = (await sse.done.then(
      () => undefined,
      (error: unknown) => error,
    )) as { response?: Response } | undefined;
    expect(failure?.response?.status).toBe(401);
    sse.stop();

    const apollo = apolloSubscription(gateway.url, { count: 1, intervalMs: 1 }, {});
    await apollo.done.catch(() => undefined);
    const error = apollo.seen[0]?.error as { errors?: Array<{ extensions?: { code?: string } }> } | undefined;
    expect(error?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('counts streams against the budget: over it, 429 RATE_LIMITED with Retry-After before the stream', async () => {
    const budgeted = await startPulseGateway(pulse, {
      budgets: { redis: stack.redis, prefix: `subscriptions-http:${Date.now()}:`, tiers: { free: { perMinute: 1 } } },
    });
    const body = { query: PULSES, variables: { count: 1, intervalMs: 1 } };
    const first = await rawStream(budgeted.url, 'text/event-stream', body);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-remaining')).toBe('0');
    for (const accept of ['text/event-stream', MULTIPART_ACCEPT]) {
      const refused = await rawStream(budgeted.url, accept, body);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      expect(JSON.parse(refused.text)).toMatchObject({ errors: [{ extensions: { code: 'RATE_LIMITED' } }] });
    }
    await budgeted.stop();
  });

  it('keeps a subscription without a streaming Accept at 400 SUBSCRIPTIONS_NOT_SUPPORTED', async () => {
    const raw = await rawStream(gateway.url, 'application/graphql-response+json', {
      query: PULSES,
      variables: { count: 1, intervalMs: 1 },
    });
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.text)).toMatchObject({ errors: [{ extensions: { code: 'SUBSCRIPTIONS_NOT_SUPPORTED' } }] });
  });
});

describe('a subgraph that dies mid-stream, a gateway that stops', () => {
  it('answers a subgraph killed mid-stream with an error event, then the end (both transports)', async () => {
    const doomed = await startPulseSubgraph(createPublicKey(createPrivateKey(stack.internalPrivateKeyPem)));
    const doomedGateway = await startPulseGateway(doomed);
    const sse = sseSubscription(doomedGateway.url, { query: PULSES, variables: { count: 0, intervalMs: 20 } });
    const multipart = rawStream(doomedGateway.url, MULTIPART_ACCEPT, {
      query: PULSES,
      variables: { count: 0, intervalMs: 20 },
    });
    await expect.poll(() => [sse.results.length > 0, doomed.openSources()], { timeout: 10_000 }).toEqual([true, 2]);
    await doomed.subgraph.stop();
    await sse.done;
    const last = sse.results.at(-1) as { errors?: Array<{ extensions?: { code?: string } }> };
    expect(last.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const raw = await multipart;
    const parts = multipartParts(raw.text) as Array<{
      payload?: { errors?: Array<{ extensions?: { code?: string } }> };
    }>;
    expect(parts.at(-1)?.payload?.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(raw.text.endsWith('\r\n--graphql--\r\n')).toBe(true);
    sse.stop();
    await expectAllClosed(doomedGateway, doomed);
    await doomedGateway.stop();
  });

  it('completes open streams when the gateway stops (the clients see the end, not a hang)', async () => {
    const stopping = await startPulseGateway(pulse);
    const sse = sseSubscription(stopping.url, { query: PULSES, variables: { count: 0, intervalMs: 20 } });
    const apollo = apolloSubscription(stopping.url, { count: 0, intervalMs: 20 });
    await expect
      .poll(() => [sse.results.length > 0, apollo.seen.length > 0], { timeout: 10_000 })
      .toEqual([true, true]);
    await stopping.stop();
    await sse.done;
    await apollo.done;
    expect(apollo.seen.every((seen) => seen.error === undefined)).toBe(true);
    sse.stop();
    await expectAllClosed(stopping);
  });
});

describe('trusted documents in safelist mode', () => {
  it('runs a listed subscription by id over both transports and refuses unlisted text', async () => {
    const [listed] = manifestOperationsOf([parse('subscription TwoPulses { pulses(count: 2, intervalMs: 10) { n } }')]);
    const file = path.join(dir, 'manifest.json');
    writeFileSync(file, manifestText([listed!]));
    const safelist = await startPulseGateway(pulse, { persistedDocuments: { mode: 'safelist', manifest: file } });
    const expected = [1, 2].map((n) => ({ data: { pulses: { n, __typename: 'Pulse' } } }));

    const sse = await rawStream(safelist.url, 'text/event-stream', { documentId: `sha256:${listed!.id}` });
    expect(sse.status).toBe(200);
    expect(sseEvents(sse.text)).toEqual(expected);

    const multipart = await rawStream(safelist.url, MULTIPART_ACCEPT, {
      extensions: { persistedQuery: { version: 1, sha256Hash: listed!.id } },
    });
    expect(multipart.status).toBe(200);
    expect(multipartParts(multipart.text)).toEqual(expected.map((payload) => ({ payload })));

    for (const accept of ['text/event-stream', MULTIPART_ACCEPT]) {
      const refused = await rawStream(safelist.url, accept, { query: 'subscription { pulses(count: 1) { n } }' });
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.text)).toMatchObject({
        errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } }],
      });
    }
    await expectAllClosed(safelist);
  });
});
