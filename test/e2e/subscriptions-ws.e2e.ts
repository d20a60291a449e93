import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { parse } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ANONYMOUS, generateSigningJwk } from '@supergraph/platform';
import { manifestOperationsOf, manifestText, type RunningGateway } from '@supergraph/gateway';
import { importJWK, SignJWT } from 'jose';
import {
  startTickerStack,
  TICKER_ALLOWED_ORIGIN,
  TICKER_AUDIENCE,
  TICKER_ISSUER,
  type TickerStack,
} from '../fixtures/ticker/ticker-stack.ts';

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;

let stack: TickerStack;
const clients: Client[] = [];

beforeAll(async () => {
  stack = await startTickerStack();
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await stack?.stop();
});

const TICKS = /* GraphQL */ `
  subscription Ticks($count: Int!) {
    ticks(count: $count) {
      n
      user {
        id
        username
      }
    }
  }
`;
const FOREVER = 'subscription Forever { forever(intervalMs: 20) { n } }';

/** A graphql-ws client on `gateway` with `params` as connection_init's payload; `closes` records close events. */
function connect(gateway: RunningGateway, params: Record<string, unknown>, origin?: string) {
  const closes: Array<{ code: number; reason: string }> = [];
  class OriginWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, origin ? { headers: { origin } } : {});
    }
  }
  const client = createClient({
    url: gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: OriginWebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: params,
    onNonLazyError: () => {},
    on: { closed: (event) => closes.push(event as { code: number; reason: string }) },
  });
  clients.push(client);
  return { client, closes };
}

interface Run {
  results: Result[];
  /** Resolves with undefined on complete, or the error (GraphQL errors or a close event). */
  ended: Promise<unknown>;
  unsubscribe: () => void;
}

function run(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Run {
  const results: Result[] = [];
  let unsubscribe = () => {};
  const ended = new Promise<unknown>((resolve) => {
    unsubscribe = client.subscribe(
      { query, variables, ...extra },
      { next: (result) => results.push(result), error: resolve, complete: () => resolve(undefined) },
    );
  });
  return { results, ended, unsubscribe };
}

async function bearer(options?: Parameters<TickerStack['accessToken']>[0]) {
  return { authorization: `Bearer ${await stack.accessToken(options)}` };
}

const codes = (errors: unknown) =>
  (errors as Array<{ extensions?: { code?: unknown } }>).map((error) => error.extensions?.code);

async function expectNoLeaks(gateway: RunningGateway = stack.gateway) {
  await expect.poll(() => gateway.subscriptions.upstreamSockets(), { timeout: 10_000 }).toBe(0);
  await expect.poll(() => gateway.subscriptions.openStreams(), { timeout: 10_000 }).toBe(0);
}

describe('subscriptions over graphql-ws through the gateway', () => {
  it('streams every event with a field another subgraph resolves, then completes and closes the upstream', async () => {
    const before = stack.peopleFetches();
    const { client } = connect(stack.gateway, await bearer({ sub: 'alice' }));
    const ticks = run(client, TICKS, { count: 3 });
    expect(await ticks.ended).toBeUndefined();
    expect(ticks.results).toEqual(
      [1, 2, 3].map((n) => ({ data: { ticks: { n, user: { id: 'alice', username: 'user-alice' } } } })),
    );
    expect(stack.peopleFetches() - before).toBeGreaterThanOrEqual(3);
    await expectNoLeaks();
  });

  it('accepts the credential as Authorization or accessToken too, and from an allowed Origin', async () => {
    const token = await stack.accessToken({ sub: 'bob' });
    for (const [params, origin] of [
      [{ Authorization: `Bearer ${token}` }, undefined],
      [{ accessToken: token }, TICKER_ALLOWED_ORIGIN],
    ] as const) {
      const { client } = connect(stack.gateway, params, origin);
      const ticks = run(client, TICKS, { count: 1 });
      expect(await ticks.ended).toBeUndefined();
      expect(ticks.results).toEqual([{ data: { ticks: { n: 1, user: { id: 'bob', username: 'user-bob' } } } }]);
    }
  });

  it('closes with 4403 without valid credentials or from a foreign Origin, before any subgraph is called', async () => {
    const opened = stack.tickerSubscriptions();
    const otherKey = await importJWK(await generateSigningJwk(), 'EdDSA');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ roles: ['user'], tier: 'free' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .setSubject('mallory')
      .setIssuer(TICKER_ISSUER)
      .setAudience(TICKER_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(otherKey);
    const attempts: Array<[Record<string, unknown>, string | undefined]> = [
      [{}, undefined],
      [{ authorization: 'Bearer not-a-jwt' }, undefined],
      [{ authorization: `Bearer ${forged}` }, undefined],
      [{ authorization: `Bearer ${await stack.accessToken({ expiresInSeconds: -10 })}` }, undefined],
      [await bearer(), 'http://evil.example'],
    ];
    for (const [params, origin] of attempts) {
      const { client, closes } = connect(stack.gateway, params, origin);
      const attempt = run(client, TICKS, { count: 1 });
      expect(await attempt.ended).toMatchObject({ code: 4403 });
      expect(closes[0]?.code).toBe(4403);
    }
    expect(stack.tickerSubscriptions()).toBe(opened);
    expect(stack.gateway.subscriptions.upstreamSockets()).toBe(0);
  });

  it('refuses @requiresScopes / @authenticated at the gateway, before any upstream connection', async () => {
    const opened = stack.tickerSubscriptions();
    const { client } = connect(stack.gateway, await bearer({ scopes: [] }));
    const denied = run(client, 'subscription { secretTicks(count: 1) { n } }');
    expect(codes(await denied.ended)).toEqual(['FORBIDDEN']);
    // Anonymous never gets a socket (4403); the core itself refuses an anonymous session the same way.
    const anonymous = await stack.gateway.subscriptions.subscribe(
      { query: TICKS, variables: { count: 1 } },
      { identity: ANONYMOUS, requestId: 'anonymous' },
      new AbortController().signal,
    );
    expect('errors' in anonymous && codes(anonymous.errors)).toEqual(['UNAUTHENTICATED']);
    expect(stack.tickerSubscriptions()).toBe(opened);
    expect(stack.gateway.subscriptions.upstreamSockets()).toBe(0);

    const { client: allowed } = connect(stack.gateway, await bearer({ scopes: ['ticker:secret'] }));
    const secret = run(allowed, 'subscription { secretTicks(count: 2) { n } }');
    expect(await secret.ended).toBeUndefined();
    expect(secret.results).toEqual([{ data: { secretTicks: { n: 1 } } }, { data: { secretTicks: { n: 2 } } }]);
  });

  it('answers bad documents with coded errors and no upstream', async () => {
    const depthLimited = await stack.startGatewayWith({ operationLimits: { maxDepth: 2 } });
    const { client } = connect(stack.gateway, await bearer());
    const cases: Array<[RunningGateway, string, Record<string, unknown>, Record<string, unknown>, string]> = [
      [stack.gateway, 'subscription { ticks(count: 1) { n ', {}, {}, 'GRAPHQL_PARSE_FAILED'],
      [stack.gateway, 'subscription { ticks(count: 1) { nope } }', {}, {}, 'GRAPHQL_VALIDATION_FAILED'],
      [stack.gateway, 'subscription { ticks(count: 1) { internalNote } }', {}, {}, 'GRAPHQL_VALIDATION_FAILED'],
      [stack.gateway, TICKS, { count: 1 }, { operationName: 'Nope' }, 'OPERATION_RESOLUTION_FAILURE'],
      [stack.gateway, TICKS, { count: 'three' }, {}, 'BAD_USER_INPUT'],
      [stack.gateway, '{ tickerVersion }', {}, {}, 'BAD_REQUEST'],
      [depthLimited, TICKS, { count: 1 }, {}, 'MAX_DEPTH_EXCEEDED'],
    ];
    const limited = connect(depthLimited, await bearer()).client;
    for (const [gateway, query, variables, extra, code] of cases) {
      const attempt = run(gateway === depthLimited ? limited : client, query, variables, extra);
      const error = await attempt.ended;
      expect(codes(error), query).toEqual([code]);
      expect(JSON.stringify(error)).not.toMatch(/stack|serviceName|ticker-stack/);
    }
    expect(stack.gateway.subscriptions.upstreamSockets()).toBe(0);
  });

  it('passes a subgraph refusal through with its code, as one result, and ends the stream', async () => {
    const { client } = connect(stack.gateway, await bearer());
    const refused = run(client, 'subscription { refused(code: "NOT_FOUND") { n } }');
    expect(await refused.ended).toBeUndefined();
    expect(refused.results).toHaveLength(1);
    expect(codes(refused.results[0]?.errors)).toEqual(['NOT_FOUND']);
    await expectNoLeaks();
  });

  it('ends with UNAUTHENTICATED when the access token expires mid-stream', async () => {
    const { client } = connect(stack.gateway, await bearer({ expiresInSeconds: 2 }));
    const stream = run(client, FOREVER);
    await expect.poll(() => stream.results.length, { timeout: 10_000 }).toBeGreaterThan(0);
    const last = await Promise.race([
      stream.ended.then(() => stream.results.at(-1)),
      new Promise((resolve) => setTimeout(() => resolve('still open'), 15_000)),
    ]);
    expect(codes((last as Result).errors)).toEqual(['UNAUTHENTICATED']);
    expect((last as Result).errors?.[0]?.message).toMatch(/expired/i);
    await expectNoLeaks();
  });

  it('closes the upstream when the client unsubscribes or disconnects', async () => {
    const { client } = connect(stack.gateway, await bearer());
    const first = run(client, FOREVER);
    await expect.poll(() => first.results.length, { timeout: 10_000 }).toBeGreaterThan(1);
    expect(stack.gateway.subscriptions.upstreamSockets()).toBe(1);
    first.unsubscribe();
    await expectNoLeaks();

    const second = run(client, FOREVER);
    await expect.poll(() => second.results.length, { timeout: 10_000 }).toBeGreaterThan(1);
    await client.dispose();
    await expectNoLeaks();
  });

  it('ends with SERVICE_UNAVAILABLE when the subgraph dies mid-stream', async () => {
    const { client } = connect(stack.gateway, await bearer());
    const stream = run(client, FOREVER);
    await expect.poll(() => stream.results.length, { timeout: 10_000 }).toBeGreaterThan(0);
    stack.killTickerSockets();
    await stream.ended;
    const last = stream.results.at(-1);
    expect(codes(last?.errors)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(JSON.stringify(last)).not.toMatch(/127\.0\.0\.1|socket closed/);
    await expectNoLeaks();
  });

  it('completes open streams when the gateway stops, without waiting on them', async () => {
    const gateway = await stack.startGatewayWith({});
    const { client } = connect(gateway, await bearer());
    const stream = run(client, FOREVER);
    await expect.poll(() => stream.results.length, { timeout: 10_000 }).toBeGreaterThan(0);
    const started = Date.now();
    await gateway.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    const end = await stream.ended;
    // Completed by the core, or (if the close frame won the race) the socket's 1001 Going Away.
    if (end !== undefined) expect(end).toMatchObject({ code: 1001 });
    expect(gateway.subscriptions.openStreams()).toBe(0);
    expect(gateway.subscriptions.upstreamSockets()).toBe(0);
  });

  it('runs a trusted document in safelist mode and refuses an ad-hoc subscription', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ticker-manifest-'));
    try {
      const operations = manifestOperationsOf([parse(TICKS)]);
      const manifest = path.join(dir, 'manifest.json');
      await writeFile(manifest, manifestText(operations));
      const gateway = await stack.startGatewayWith({ persistedDocuments: { mode: 'safelist', manifest } });
      const { client } = connect(gateway, await bearer({ sub: 'carol' }));
      const byId = run(client, '', { count: 1 }, { documentId: `sha256:${operations[0]!.id}` });
      expect(await byId.ended).toBeUndefined();
      // The manifest's body is the client's, __typename added by the manifest generator.
      expect(byId.results).toEqual([
        {
          data: {
            ticks: { __typename: 'Tick', n: 1, user: { __typename: 'User', id: 'carol', username: 'user-carol' } },
          },
        },
      ]);
      const byText = run(client, operations[0]!.body, { count: 1 });
      expect(await byText.ended).toBeUndefined();
      expect(byText.results).toHaveLength(1);
      const adHoc = run(client, 'subscription { ticks(count: 1) { n } }');
      expect(codes(await adHoc.ended)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers SUBSCRIPTIONS_NOT_SUPPORTED when subscriptions are off, and still tells a subscription apart', async () => {
    const gateway = await stack.startGatewayWith({ subscriptions: false });
    expect(gateway.subscriptions.isSubscription({ query: TICKS })).toBe(true);
    expect(gateway.subscriptions.isSubscription({ query: '{ tickerVersion }' })).toBe(false);
    const { client } = connect(gateway, await bearer());
    const refused = run(client, TICKS, { count: 1 });
    expect(codes(await refused.ended)).toEqual(['SUBSCRIPTIONS_NOT_SUPPORTED']);
    expect(gateway.subscriptions.upstreamSockets()).toBe(0);
  });

  it('registers and runs an APQ hash in allow mode', async () => {
    const { client } = connect(stack.gateway, await bearer());
    const query = 'subscription Apq { ticks(count: 1) { n } }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const persistedQuery = { version: 1, sha256Hash };
    const unknown = run(client, '', {}, { extensions: { persistedQuery } });
    expect(codes(await unknown.ended)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const register = run(client, query, {}, { extensions: { persistedQuery } });
    expect(await register.ended).toBeUndefined();
    const byHash = run(client, '', {}, { extensions: { persistedQuery } });
    expect(await byHash.ended).toBeUndefined();
    expect(byHash.results).toEqual([{ data: { ticks: { n: 1 } } }]);
  });
});
