import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import net from 'node:net';
import { parse } from 'graphql';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAuthConfig, startAuthSubgraph } from '@supergraph/auth';
import { startSubgraph, type RunningSubgraph, type SubgraphContext } from '@supergraph/kit';
import { captureLogs, generateSigningJwk, pingRedis, REDIS_CLIENT_OPTIONS, VERSION } from '@supergraph/platform';
import { startTickerStack } from '../fixtures/ticker/ticker-stack.ts';
import { firstCode, postGraphQL, registerAndLogin, startStack, type Stack } from './harness.ts';

/**
 * `/metrics`, `/health`, `/ready` and the request log through real HTTP: the
 * stack's gateway and auth (PostgreSQL or PGlite, Redis or its stand-in), plus
 * subgraphs and gateways started against dead dependencies.
 */
let stack: Stack;
const runPrefix = `test:${randomBytes(6).toString('hex')}:obs:`;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  stack = await startStack({
    supergraph: 'probe',
    authRateLimits: {
      overrides: {
        'Mutation.refresh': { max: 1 },
        'Mutation.register': { max: 1000 },
        'Mutation.login': { max: 1000 },
      },
    },
  });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  if (!stack) return;
  const keys = await stack.redis.keys(`${runPrefix}*`);
  if (keys.length > 0) await stack.redis.del(...keys);
  await stack.stop();
});

const at = (graphqlUrl: string, path: string) => new URL(path, graphqlUrl).href;

async function scrape(graphqlUrl: string): Promise<string> {
  const response = await fetch(at(graphqlUrl, '/metrics'));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The value of the sample `name` whose labels include `labels` (summed over the rest), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

async function json(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes; returns how long it took. */
async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const startedAt = performance.now();
  while (!(await check())) {
    if (performance.now() - startedAt > timeoutMs) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return performance.now() - startedAt;
}

/** A Redis client of a server that is not there (port 1): every command fails at once. */
function deadRedis(): Redis {
  const redis = new Redis('redis://127.0.0.1:1', { ...REDIS_CLIENT_OPTIONS });
  redis.on('error', () => {});
  cleanups.push(() => redis.disconnect());
  return redis;
}

const verifyKey = () => createPublicKey(createPrivateKey(stack.internalPrivateKeyPem));

/** A second auth subgraph; by default over a PostgreSQL that is not there (a pg pool connects lazily, so it starts). */
async function startAuth(overrides: { url?: string; redis?: Redis } = {}): Promise<RunningSubgraph> {
  const subgraph = await startAuthSubgraph(
    {
      target: { kind: 'postgres', url: overrides.url ?? 'postgres://postgres@127.0.0.1:1/none' },
      internalTokenKey: verifyKey(),
      config: await defaultAuthConfig({ signingKeys: [await generateSigningJwk()] }),
      redis: overrides.redis ?? stack.redis,
      redisPrefix: stack.keyPrefix,
    },
    0,
  );
  cleanups.push(() => subgraph.stop());
  return subgraph;
}

describe('/metrics', () => {
  it('counts requests by operation, errors by code and subgraph fetch latency, and the values grow', async () => {
    await registerAndLogin(stack, 'metrics');
    const before = await scrape(stack.gateway.url);
    const loginsBefore = sample(before, 'graphql_requests_total', { service: 'gateway', operation: 'Login' }) ?? 0;
    const fetchesBefore = sample(before, 'gateway_subgraph_fetch_duration_seconds_count', { subgraph: 'auth' }) ?? 0;
    await registerAndLogin(stack, 'metrics');
    const bad = await stack.gql('query Broken { nope }');
    expect(firstCode(bad)).toBe('GRAPHQL_VALIDATION_FAILED');

    const after = await scrape(stack.gateway.url);
    expect(sample(after, 'graphql_requests_total', { service: 'gateway', operation: 'Login', type: 'mutation' })).toBe(
      loginsBefore + 1,
    );
    expect(sample(after, 'gateway_subgraph_fetch_duration_seconds_count', { subgraph: 'auth' })).toBeGreaterThan(
      fetchesBefore,
    );
    expect(sample(after, 'graphql_request_duration_seconds_count', { service: 'gateway', operation: 'Login' })).toBe(
      loginsBefore + 1,
    );
    expect(
      sample(after, 'graphql_errors_total', { service: 'gateway', code: 'GRAPHQL_VALIDATION_FAILED' }),
    ).toBeGreaterThan(0);
    // The process's own metrics, which operations' systemMetrics reads.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(sample(after, name)).toBeGreaterThanOrEqual(0);
    }
  });

  it('is served by the subgraph too, with its requests and its pool', async () => {
    await registerAndLogin(stack, 'metrics');
    const text = await scrape(stack.auth.url);
    // The gateway names its subgraph operations `<operation>__<subgraph>__<n>`: still bounded, still no query text.
    expect(sample(text, 'graphql_requests_total', { service: 'auth', operation: 'Login__auth__0' })).toBeGreaterThan(0);
    // pg: the pool's connections; PGlite: one connection.
    expect(sample(text, 'db_pool_connections', { service: 'auth', state: 'total' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'db_pool_connections', { service: 'auth', state: 'idle' })).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'db_pool_connections', { service: 'auth', state: 'waiting' })).toBe(0);
  });

  it('labels an anonymous operation `anonymous` and never with query text', async () => {
    await stack.gql('{ __typename }');
    const text = await scrape(stack.gateway.url);
    expect(sample(text, 'graphql_requests_total', { service: 'gateway', operation: 'anonymous' })).toBeGreaterThan(0);
    expect(text).not.toContain('__typename');
  });

  it('counts a subgraph RATE_LIMITED by field and a spent gateway budget', async () => {
    const refresh = 'mutation Refresh { refresh(refreshToken: "not-a-token") { accessToken } }';
    const before = await scrape(stack.gateway.url);
    const field = { service: 'auth', field: 'Mutation.refresh' };
    const rejectedBefore = sample(before, 'rate_limit_rejections_total', field) ?? 0;
    await stack.gql(refresh);
    expect(firstCode(await stack.gql(refresh))).toBe('RATE_LIMITED');
    const after = await scrape(stack.gateway.url);
    expect(sample(after, 'rate_limit_rejections_total', field)).toBe(rejectedBefore + 1);

    const budgetBefore = sample(after, 'rate_limit_rejections_total', { service: 'gateway', field: 'budget' }) ?? 0;
    const limited = await stack.startGatewayWith({
      budgets: { redis: stack.redis, prefix: `${runPrefix}budget:`, tiers: { free: { perMinute: 1 } } },
    });
    await postGraphQL(limited.url, { query: '{ __typename }' });
    const spent = await postGraphQL(limited.url, { query: '{ __typename }' });
    expect(spent.status).toBe(429);
    const final = await scrape(limited.url);
    expect(sample(final, 'rate_limit_rejections_total', { service: 'gateway', field: 'budget' })).toBe(
      budgetBefore + 1,
    );
    expect(sample(final, 'graphql_errors_total', { service: 'gateway', code: 'RATE_LIMITED' })).toBeGreaterThan(0);
  });

  it('counts cache lookups of the gateway (access tokens, internal tokens)', async () => {
    const user = await registerAndLogin(stack, 'cache');
    const me = '{ me { id } }';
    await stack.gql(me, undefined, { authorization: `Bearer ${user.accessToken}` });
    await stack.gql(me, undefined, { authorization: `Bearer ${user.accessToken}` });
    const text = await scrape(stack.gateway.url);
    expect(sample(text, 'cache_requests_total', { cache: 'access_token', result: 'hit' })).toBeGreaterThan(0);
    expect(sample(text, 'cache_requests_total', { cache: 'internal_token', result: 'hit' })).toBeGreaterThan(0);
  });

  it('is refused (403) to addresses outside METRICS_ALLOW, whatever X-Forwarded-For claims', async () => {
    const restricted = await stack.startGatewayWith({ metricsAllow: ['10.0.0.0/8'] });
    const refused = await fetch(at(restricted.url, '/metrics'), { headers: { 'x-forwarded-for': '10.1.2.3' } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain('graphql_requests_total');
    const allowed = await stack.startGatewayWith({ metricsAllow: ['127.0.0.0/8', '::1/128'] });
    expect((await fetch(at(allowed.url, '/metrics'))).status).toBe(200);
  });

  it('is not served through the GraphQL path, and only to GET', async () => {
    const viaGraphQL = await fetch(`${stack.gateway.url}?query=${encodeURIComponent('{ __typename }')}&metrics=1`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(await viaGraphQL.text()).not.toContain('# HELP');
    expect((await fetch(at(stack.gateway.url, '/metrics'), { method: 'POST' })).status).toBe(405);
  });
});

describe('graphql_subscriptions_open', () => {
  it('shows an open SSE subscription at the gateway and drops when the client leaves', async () => {
    const ticker = await startTickerStack();
    cleanups.push(() => ticker.stop());
    const open = async () =>
      sample(await scrape(ticker.gateway.url), 'graphql_subscriptions_open', { service: 'gateway' }) ?? 0;
    const before = await open();
    const client = new AbortController();
    const response = await fetch(ticker.gateway.url, {
      method: 'POST',
      signal: client.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${await ticker.accessToken()}`,
      },
      body: JSON.stringify({ query: 'subscription Forever { forever(intervalMs: 50) { n } }' }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    // The first bytes may be a heartbeat comment: read until the first event.
    let received = '';
    while (!received.includes('event: next')) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`the stream ended before an event: ${received}`);
      received += new TextDecoder().decode(chunk.value);
    }
    await until(async () => (await open()) === before + 1);
    client.abort();
    await reader.cancel().catch(() => {});
    await until(async () => (await open()) === before);
  });
});

describe('/health and /ready', () => {
  it('/health is liveness with the release version, even when PostgreSQL is gone', async () => {
    const dead = await startAuth();
    for (const url of [stack.gateway.url, stack.auth.url, dead.url]) {
      const health = await json(at(url, '/health'));
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'ok', version: VERSION });
    }
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('a subgraph whose PostgreSQL is unreachable is not ready, and the gateway names it within ~2 s', async () => {
    expect((await json(at(stack.auth.url, '/ready'))).body).toMatchObject({ status: 'ready', service: 'auth' });
    const dead = await startAuth();
    const ready = await json(at(dead.url, '/ready'));
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', service: 'auth', unavailable: ['postgres'] });
    expect(JSON.stringify(ready.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|postgres:\/\//);

    const gateway = await stack.startGatewayWith({
      subgraphUrls: { auth: dead.url, probe: stack.probe?.subgraph.url },
    });
    let last: Awaited<ReturnType<typeof json>> | undefined;
    const took = await until(async () => (last = await json(at(gateway.url, '/ready'))).status === 503);
    expect(took).toBeLessThan(5_000);
    expect(last?.body).toMatchObject({ status: 'unavailable', service: 'gateway', unavailable: ['auth'] });
    // The stack's gateway, whose subgraphs are fine, is ready.
    expect((await json(at(stack.gateway.url, '/ready'))).status).toBe(200);
  });

  // A real outage needs a real server: PostgreSQL behind a TCP relay the test cuts.
  it.skipIf(!process.env['DATABASE_URL'])(
    'goes 503 within ~2 s when a ready subgraph loses PostgreSQL mid-run (it used to stay 200)',
    async () => {
      const upstream = new URL(stack.db.url ?? '');
      const sockets = new Set<net.Socket>();
      const relay = net.createServer((client) => {
        const server = net.connect(Number(upstream.port || 5432), upstream.hostname);
        for (const socket of [client, server]) {
          sockets.add(socket);
          socket.on('error', () => {});
          socket.on('close', () => sockets.delete(socket));
        }
        client.pipe(server).pipe(client);
      });
      await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
      const relayed = new URL(upstream.href);
      relayed.host = `127.0.0.1:${(relay.address() as net.AddressInfo).port}`;
      const subgraph = await startAuth({ url: relayed.href });
      const gateway = await stack.startGatewayWith({
        subgraphUrls: { auth: subgraph.url, probe: stack.probe?.subgraph.url },
      });
      await until(async () => (await json(at(gateway.url, '/ready'))).status === 200);

      // The outage: the relay refuses new connections and drops the pool's open ones.
      relay.close();
      for (const socket of sockets) socket.destroy();
      let last: Awaited<ReturnType<typeof json>> | undefined;
      const took = await until(async () => (last = await json(at(gateway.url, '/ready'))).status === 503);
      expect(took).toBeLessThan(5_000);
      expect(last?.body['unavailable']).toEqual(['auth']);
      expect((await json(at(subgraph.url, '/ready'))).body['unavailable']).toEqual(['postgres']);
      expect((await json(at(subgraph.url, '/health'))).status).toBe(200);
    },
  );

  it('a subgraph whose Redis is gone names redis; so does a gateway whose budget Redis is gone', async () => {
    const subgraph = await startAuth({ url: undefined, redis: deadRedis() });
    const ready = await json(at(subgraph.url, '/ready'));
    expect(ready.status).toBe(503);
    expect(ready.body['unavailable']).toContain('redis');

    const gateway = await stack.startGatewayWith({
      budgets: { redis: deadRedis(), prefix: `${runPrefix}dead:` },
    });
    const gatewayReady = await json(at(gateway.url, '/ready'));
    expect(gatewayReady.status).toBe(503);
    expect(gatewayReady.body['unavailable']).toEqual(['redis']);
  });

  it('answers 503 draining once stop begins, on the subgraph and on the gateway', async () => {
    const subgraph = await startSubgraph<SubgraphContext>(
      {
        name: 'drainer',
        typeDefs: parse(
          'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"]) type Query { hello: String }',
        ),
        resolvers: { Query: { hello: () => 'hi' } },
        internalTokenKey: verifyKey(),
        createContext: (base) => base,
        ready: { redis: pingRedis(stack.redis) },
        close: async () => {},
        drainDelayMs: 10_000,
      },
      0,
    );
    expect((await json(at(subgraph.url, '/ready'))).status).toBe(200);
    const stopped = subgraph.stop();
    const draining = await json(at(subgraph.url, '/ready'));
    expect(draining.status).toBe(503);
    expect(draining.body).toMatchObject({ status: 'draining', service: 'drainer' });
    expect((await json(at(subgraph.url, '/health'))).status).toBe(200);
    cleanups.push(() => stopped);

    const gateway = await stack.startGatewayWith({ drainDelayMs: 10_000 });
    expect((await json(at(gateway.url, '/ready'))).status).toBe(200);
    const gatewayStopped = gateway.stop();
    expect((await json(at(gateway.url, '/ready'))).body).toMatchObject({ status: 'draining', service: 'gateway' });
    cleanups.push(() => gatewayStopped);
  });
});

describe('logs', () => {
  it('one request line per gateway request, with the trace id, operation, user and codes', async () => {
    const lines: string[] = [];
    const stop = captureLogs((line) => lines.push(line));
    try {
      const user = await registerAndLogin(stack, 'logline');
      const traceId = randomBytes(16).toString('hex');
      await stack.gql('query WhoAmI { me { id } }', undefined, {
        authorization: `Bearer ${user.accessToken}`,
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
        'x-request-id': 'obs-request-1',
      });
      await stack.gql('query Broken { nope }');
      const requests = () =>
        lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['msg'] === 'request');
      await until(async () => requests().some((line) => line['operationName'] === 'Broken'));
      const whoAmI = requests().filter((line) => line['requestId'] === 'obs-request-1');
      expect(whoAmI).toHaveLength(1);
      expect(whoAmI[0]).toMatchObject({
        service: 'gateway',
        method: 'POST',
        path: '/graphql',
        status: 200,
        operationName: 'WhoAmI',
        operationType: 'query',
        userId: user.userId,
        errorCodes: [],
        trace_id: traceId,
      });
      expect(typeof whoAmI[0]?.['durationMs']).toBe('number');
      expect(requests().find((line) => line['operationName'] === 'Broken')).toMatchObject({
        errorCodes: ['GRAPHQL_VALIDATION_FAILED'],
      });
    } finally {
      stop();
    }
  });

  it('no line carries a password, token, API key or provider key (login, API key, password change, provider key)', async () => {
    const lines: string[] = [];
    const stop = captureLogs((line) => lines.push(line));
    const secrets: string[] = [];
    try {
      const user = await registerAndLogin(stack, 'secrets');
      secrets.push('Correct-Horse-9-Battery', user.accessToken, user.refreshToken, user.sessionToken);
      const bearer = { authorization: `Bearer ${user.accessToken}` };
      const created = await stack.gql(
        'mutation Key { createApiKey(name: "logs", scopes: ["profile:read"]) { key } }',
        undefined,
        bearer,
      );
      const apiKey = (created.body.data?.['createApiKey'] as { key: string }).key;
      secrets.push(apiKey);
      await stack.gql('{ me { id } }', undefined, { 'x-api-key': apiKey });
      const providerKey = `sk-test-${randomBytes(12).toString('hex')}`;
      secrets.push(providerKey);
      const set = await stack.gql(
        'mutation SetKey($key: String!) { setProviderKey(provider: "openai", key: $key) { last4 } }',
        { key: providerKey },
        bearer,
      );
      expect(set.body.errors).toBeUndefined();
      const newPassword = `New-Horse-${randomBytes(6).toString('hex')}-7`;
      secrets.push(newPassword);
      const changed = await stack.gql(
        'mutation Change($old: String!, $new: String!) { changePassword(currentPassword: $old, newPassword: $new) }',
        { old: 'Correct-Horse-9-Battery', new: newPassword },
        { 'x-session-token': user.sessionToken },
      );
      expect(changed.body.errors).toBeUndefined();
      // A failed login with the old password and a forged token: error paths log too.
      await stack.gql(
        'mutation { login(input: { usernameOrEmail: "nobody", password: "Wrong-Horse-1" }) { accessToken } }',
      );
      secrets.push('Wrong-Horse-1');
      await stack.gql('{ me { id } }', undefined, { authorization: `Bearer ${user.accessToken.slice(0, -4)}AAAA` });
      await until(async () => lines.filter((line) => line.includes('"msg":"request"')).length >= 6);
    } finally {
      stop();
    }
    expect(lines.length).toBeGreaterThan(0);
    const text = lines.join('\n');
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}\./);
  });
});
