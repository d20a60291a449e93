import { parse } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  ANONYMOUS,
  generateInternalKeyPair,
  importInternalSigningKey,
  importInternalVerifyKey,
  signInternalToken,
  type Identity,
} from '@supergraph/platform';
import { startSubgraph, type RunningSubgraph } from './subgraph.ts';

const typeDefs = parse(/* GraphQL */ `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes"])

  type Query {
    hello: String
  }

  type Subscription {
    count(to: Int!, label: String): Tick! @authenticated
    secret: Tick! @requiresScopes(scopes: [["secret:read"]])
    broken: Tick!
  }

  type Tick {
    n: Int!
    label: String
    who: String
  }
`);

async function* count(to: number, label: string | undefined) {
  for (let n = 1; n <= to; n++) yield { count: { n, label: label ?? null } };
}

/** Never ends by itself: for the stop test. */
async function* forever() {
  for (let n = 1; ; n++) {
    yield { secret: { n } };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const user: Identity = { userId: 'u-1', roles: ['user'], scopes: [], tier: 'free', via: 'jwt' };
const reader: Identity = { ...user, scopes: ['secret:read'] };

describe('startSubgraph({ subscriptions: true })', () => {
  let subgraph: RunningSubgraph;
  let signingKey: Awaited<ReturnType<typeof importInternalSigningKey>>;
  const clients: Client[] = [];

  beforeAll(async () => {
    const keys = generateInternalKeyPair();
    signingKey = await importInternalSigningKey(keys.privateKeyPem);
    subgraph = await startSubgraph(
      {
        name: 'ticker',
        typeDefs,
        subscriptions: true,
        resolvers: {
          Query: { hello: () => 'hi' },
          Subscription: {
            count: { subscribe: (_: unknown, args: { to: number; label?: string }) => count(args.to, args.label) },
            secret: { subscribe: () => forever() },
            broken: {
              subscribe: () => {
                throw new Error('connection string postgres://secret@db');
              },
            },
          },
          Tick: { who: (_tick: unknown, _args: unknown, ctx: { identity: Identity }) => ctx.identity.userId },
        },
        internalTokenKey: await importInternalVerifyKey(keys.publicKeyPem),
        createContext: (base) => base,
        ready: async () => {},
        close: async () => {},
      },
      0,
    );
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await subgraph?.stop();
  });

  async function connect(connectionParams: Record<string, unknown>) {
    const closes: Array<{ code: number; reason: string }> = [];
    const client = createClient({
      url: subgraph.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams,
      onNonLazyError: () => {},
      on: { closed: (event) => closes.push(event as { code: number; reason: string }) },
    });
    clients.push(client);
    return { client, closes };
  }

  async function run(client: Client, query: string, variables: Record<string, unknown> = {}) {
    const results: FormattedExecutionResult<Record<string, unknown>, unknown>[] = [];
    const error = await new Promise<unknown>((resolve) =>
      client.subscribe(
        { query, variables },
        { next: (result) => results.push(result), error: resolve, complete: () => resolve(undefined) },
      ),
    );
    return { results, error };
  }

  it('streams events to the gateway with the identity of its internal token in context', async () => {
    const { client } = await connect({ internalToken: await signInternalToken(user, 'ticker', signingKey) });
    const { results, error } = await run(client, 'subscription { count(to: 3, label: "x") { n label who } }');
    expect(error).toBeUndefined();
    expect(results).toEqual([1, 2, 3].map((n) => ({ data: { count: { n, label: 'x', who: 'u-1' } } })));
  });

  it('closes with 4403 without a valid internal token (none, forged, or for another subgraph)', async () => {
    const forged = await signInternalToken(
      user,
      'ticker',
      await importInternalSigningKey(generateInternalKeyPair().privateKeyPem),
    );
    for (const params of [
      {},
      { internalToken: 'nonsense' },
      { internalToken: forged },
      { internalToken: await signInternalToken(user, 'other', signingKey) },
    ]) {
      const { client, closes } = await connect(params);
      const { error } = await run(client, 'subscription { count(to: 1) { n } }');
      expect((error as { code?: number }).code).toBe(4403);
      expect(closes[0]?.code).toBe(4403);
    }
  });

  it('enforces @authenticated and @requiresScopes on subscription fields (their subscribe)', async () => {
    const anonymous = await connect({ internalToken: await signInternalToken(ANONYMOUS, 'ticker', signingKey) });
    const refused = await run(anonymous.client, 'subscription { count(to: 2) { n } }');
    expect(refused.results).toHaveLength(1);
    expect(refused.results[0]?.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');

    const noScope = await connect({ internalToken: await signInternalToken(user, 'ticker', signingKey) });
    const forbidden = await run(noScope.client, 'subscription { secret { n } }');
    expect(forbidden.results[0]?.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('refuses NUL characters in subscription arguments before the source stream opens', async () => {
    const { client } = await connect({ internalToken: await signInternalToken(user, 'ticker', signingKey) });
    const { results } = await run(client, 'subscription ($label: String) { count(to: 1, label: $label) { n } }', {
      label: 'a\0b',
    });
    expect(results[0]?.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  it('masks internal errors as on the HTTP path (no message, no stack)', async () => {
    const { client } = await connect({ internalToken: await signInternalToken(user, 'ticker', signingKey) });
    const { results } = await run(client, 'subscription { broken { n } }');
    expect(results[0]?.errors).toEqual([
      expect.objectContaining({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }),
    ]);
    expect(JSON.stringify(results)).not.toContain('postgres');
  });

  it('stop closes open sockets with 1001 before the server drains', async () => {
    const { client, closes } = await connect({ internalToken: await signInternalToken(reader, 'ticker', signingKey) });
    const events: FormattedExecutionResult<Record<string, unknown>, unknown>[] = [];
    const ended = new Promise<unknown>((resolve) =>
      client.subscribe(
        { query: 'subscription { secret { n } }' },
        { next: (result) => events.push(result), error: resolve, complete: () => resolve(undefined) },
      ),
    );
    await expect.poll(() => events.length, { timeout: 10_000 }).toBeGreaterThan(1);
    await subgraph.stop();
    expect((await ended) as { code?: number }).toMatchObject({ code: 1001 });
    expect(closes[0]?.code).toBe(1001);
    expect(subgraph.http.listening).toBe(false);
  });
});
