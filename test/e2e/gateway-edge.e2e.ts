import { createPublicKey } from 'node:crypto';
import { deadUrl } from '@supergraph/testing';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateInternalKeyPair,
  importInternalSigningKey,
  signInternalToken,
  verifyInternalToken,
  importInternalVerifyKey,
} from '@supergraph/platform';
import {
  ALLOWED_ORIGIN,
  firstCode,
  postGraphQL,
  registerAndLogin,
  startStack,
  type LoggedIn,
  type Stack,
} from './harness.ts';

const TIMEOUT_MS = 1_000;

let stack: Stack;
let carol: LoggedIn;
let probe: NonNullable<Stack['probe']>;

beforeAll(async () => {
  stack = await startStack({ supergraph: 'probe', gateway: { subgraphTimeoutMs: TIMEOUT_MS } });
  probe = stack.probe!;
  carol = await registerAndLogin(stack, 'carol');
});

afterAll(async () => {
  await stack?.stop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The gateway's real internal-token public key, as every subgraph holds it. */
async function gatewayVerifyKey() {
  const publicKeyPem = createPublicKey(stack.internalPrivateKeyPem).export({ format: 'pem', type: 'spki' }).toString();
  return importInternalVerifyKey(publicKeyPem);
}

/**
 * The internal token a subgraph received is for that subgraph only: its
 * audience is the subgraph's name, it verifies there, and another subgraph
 * (auth, with the same gateway key) refuses it.
 */
async function expectTokenForProbeOnly(token: string) {
  expect(decodeJwt(token).aud).toBe('probe');
  const key = await gatewayVerifyKey();
  const identity = await verifyInternalToken(token, 'probe', key);
  await expect(verifyInternalToken(token, 'auth', key)).rejects.toThrow();
  const replayed = await postGraphQL(stack.auth.url, { query: '{ me { id } }' }, { 'x-internal-token': token });
  expect(replayed.status).toBe(401);
  expect(firstCode(replayed)).toBe('UNAUTHENTICATED');
  return identity;
}

describe('identity forwarding', () => {
  it('gives each subgraph an internal token for it with the caller identity, request id and traceparent', async () => {
    const before = probe.requests.length;
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const result = await stack.gql('{ probeWhoAmI { userId via roles scopes tier } }', undefined, {
      ...bearer(carol.accessToken),
      traceparent,
      'x-request-id': 'req-e2e-1',
    });
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data?.['probeWhoAmI']).toMatchObject({
      userId: carol.userId,
      via: 'jwt',
      roles: ['user'],
      tier: 'free',
    });
    expect(result.headers.get('x-request-id')).toBe('req-e2e-1');
    const seen = probe.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.['x-request-id']).toBe('req-e2e-1');
    expect(seen[0]?.['traceparent']).toBe(traceparent);
    expect(seen[0]?.['authorization']).toBeUndefined();
    const identity = await expectTokenForProbeOnly(String(seen[0]?.['x-internal-token']));
    expect(identity).toMatchObject({ userId: carol.userId, via: 'jwt' });
  });

  it('drops identity headers a client sends; a forged internal token does not help', async () => {
    const other = generateInternalKeyPair();
    const forged = await signInternalToken(
      { userId: 'attacker', roles: ['admin'], scopes: ['admin', 'chat'], tier: 'enterprise', via: 'jwt' },
      'probe',
      await importInternalSigningKey(other.privateKeyPem),
    );
    const before = probe.requests.length;
    const result = await stack.gql('{ probeWhoAmI { userId via scopes } }', undefined, {
      'x-internal-token': forged,
      'x-user-id': 'attacker',
      'x-user-roles': 'admin',
    });
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data?.['probeWhoAmI']).toEqual({ userId: null, via: 'anonymous', scopes: [] });
    const seen = probe.requests.slice(before)[0] ?? {};
    expect(seen['x-internal-token']).not.toBe(forged);
    expect(seen['x-user-id']).toBeUndefined();
    expect(seen['x-user-roles']).toBeUndefined();
    // What arrived is the gateway's own token for `probe`, and only for `probe`.
    const token = String(seen['x-internal-token']);
    const wrongKey = await importInternalVerifyKey(other.publicKeyPem);
    await expect(verifyInternalToken(token, 'probe', wrongKey)).rejects.toThrow();
    expect(await expectTokenForProbeOnly(token)).toMatchObject({ userId: null, via: 'anonymous' });

    const guarded = await stack.gql('{ probeSecret }', undefined, { 'x-internal-token': forged });
    expect(firstCode(guarded)).toBe('UNAUTHENTICATED');
  });

  it('forwards the connecting address as the client IP and ignores X-Forwarded-For unless proxy hops are trusted', async () => {
    const query = '{ probeWhoAmI { clientIp } }';
    const spoofed = { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' };
    const direct = await stack.gql(query, undefined, spoofed);
    expect(direct.body.errors).toBeUndefined();
    expect(direct.body.data?.['probeWhoAmI']).toEqual({ clientIp: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/) });

    // One trusted hop: the entry that proxy appended (the rightmost), never the client-written leftmost.
    const behindProxy = await stack.startGatewayWith({ trustedProxyHops: 1 });
    const forwarded = await postGraphQL(behindProxy.url, { query }, spoofed);
    expect(forwarded.body.data?.['probeWhoAmI']).toEqual({ clientIp: '10.0.0.1' });
    const noHeader = await postGraphQL(behindProxy.url, { query });
    expect(noHeader.body.data?.['probeWhoAmI']).toEqual({
      clientIp: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/),
    });
  });

  it('refuses direct calls to a subgraph without a valid internal token', async () => {
    const service = await postGraphQL(probe.subgraph.url, { query: '{ _service { sdl } }' });
    expect(service.status).toBe(401);
    const entities = await postGraphQL(probe.subgraph.url, {
      query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { probeNote } } }',
      variables: { r: [{ __typename: 'User', id: '1' }] },
    });
    expect(entities.status).toBe(401);
  });
});

describe('directives before planning', () => {
  it('UNAUTHENTICATED for an @authenticated field anonymously, and the subgraph is not called', async () => {
    const before = probe.requests.length;
    const result = await stack.gql('{ probePublic probeSecret }');
    expect(result.status).toBe(401);
    expect(firstCode(result)).toBe('UNAUTHENTICATED');
    expect(result.body.data ?? null).toBeNull();
    expect(probe.requests.length).toBe(before);
  });

  it('FORBIDDEN for an API key without the required scope, and the subgraph is not called', async () => {
    const created = await stack.gql(
      'mutation { createApiKey(name: "narrow", scopes: ["profile:read"]) { key } }',
      undefined,
      bearer(carol.accessToken),
    );
    const key = (created.body.data?.['createApiKey'] as { key: string }).key;
    const before = probe.requests.length;
    const result = await stack.gql('fragment F on Query { probeChat } query { probePublic ...F }', undefined, {
      'x-api-key': key,
    });
    expect(result.status).toBe(403);
    expect(firstCode(result)).toBe('FORBIDDEN');
    expect(probe.requests.length).toBe(before);

    const withScope = await stack.gql('{ probeChat }', undefined, bearer(carol.accessToken));
    expect(withScope.body.data?.['probeChat']).toBe('chat');
  });
});

describe('failing subgraphs', () => {
  it('a slow subgraph yields partial data and an error at its path, without waiting for it', async () => {
    const finishedBefore = probe.slowFinished();
    const result = await stack.gql(
      `{ me { id } probeSlow(ms: ${TIMEOUT_MS + 4_000}) }`,
      undefined,
      bearer(carol.accessToken),
    );
    // The answer came while the probe was still sleeping: the gateway gave up at its timeout, not when the probe did.
    expect(probe.slowFinished()).toBe(finishedBefore);
    expect(result.status).toBe(200);
    expect(result.body.data).toEqual({ me: { id: carol.userId }, probeSlow: null });
    expect(result.body.errors).toHaveLength(1);
    expect(result.body.errors?.[0]).toMatchObject({ path: ['probeSlow'], extensions: { code: 'SERVICE_UNAVAILABLE' } });
  });

  it('a subgraph that is down yields partial data with errors at the entity paths', async () => {
    const gateway = await stack.startGatewayWith({ subgraphUrls: { auth: stack.auth.url, probe: await deadUrl() } });
    const result = await postGraphQL(gateway.url, { query: '{ me { id probeNote } }' }, bearer(carol.accessToken));
    expect(result.status).toBe(200);
    expect(result.body.data).toEqual({ me: { id: carol.userId, probeNote: null } });
    expect(result.body.errors?.[0]).toMatchObject({
      path: ['me', 'probeNote'],
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
    const text = JSON.stringify(result.body);
    expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|stack/i);

    const ready = await fetch(new URL('/ready', gateway.url));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ unavailable: ['probe'] });
    const healthyReady = await fetch(new URL('/ready', stack.gateway.url));
    expect(healthyReady.status).toBe(200);
  });

  it('entity fields from a working subgraph join the owner', async () => {
    const result = await stack.gql('{ me { id probeNote } }', undefined, bearer(carol.accessToken));
    expect(result.body).toEqual({ data: { me: { id: carol.userId, probeNote: `note for ${carol.userId}` } } });
  });
});

describe('error masking', () => {
  it('masks internal errors: no message, stack, SQL or hosts; other fields still resolve', async () => {
    const result = await stack.gql('{ probePublic probeCrash }');
    expect(result.body.data).toEqual({ probePublic: 'public', probeCrash: null });
    expect(result.body.errors).toEqual([
      { message: 'Internal server error', path: ['probeCrash'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ]);
    expect(JSON.stringify(result.body)).not.toMatch(/probe_secret_table|hunter2|postgres:|stacktrace|serviceName/);
  });

  it('keeps public codes and their extensions from subgraphs', async () => {
    const result = await stack.gql('{ probeNotFound }');
    expect(result.body.errors?.[0]).toMatchObject({
      message: 'No such probe',
      path: ['probeNotFound'],
      extensions: { code: 'NOT_FOUND', id: 'p-1' },
    });
    expect(result.body.errors?.[0]?.extensions).not.toHaveProperty('serviceName');
  });

  it('passes on BAD_USER_INPUT when a subgraph refuses a variable the gateway cannot check', async () => {
    const query = 'query($at: ProbeDate!) { probeEcho(at: $at) probePublic }';
    const good = await stack.gql(query, { at: '2026-11-22' });
    expect(good.body).toEqual({ data: { probeEcho: '2026-11-22', probePublic: 'public' } });
    const bad = await stack.gql(query, { at: 'yesterday' });
    expect(bad.body.errors?.[0]).toMatchObject({ path: ['probeEcho'], extensions: { code: 'BAD_USER_INPUT' } });
    expect(bad.body.errors?.[0]?.message).toMatch(/ProbeDate must look like/);
  });

  it('reports validation errors with their code', async () => {
    const result = await stack.gql('{ probeNope }');
    expect(result.status).toBe(400);
    expect(firstCode(result)).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('HTTP edge', () => {
  it('allows listed origins and denies others (CORS)', async () => {
    const preflight = (origin: string) =>
      fetch(stack.gateway.url, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, authorization',
        },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);

    const denied = await preflight('https://evil.test');
    expect(denied.status).toBe(403);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();

    const post = await stack.gql('{ probePublic }', undefined, { origin: ALLOWED_ORIGIN });
    expect(post.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    const foreign = await stack.gql('{ probePublic }', undefined, { origin: 'https://evil.test' });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers 413 for a body over 1 MiB', async () => {
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ probePublic }`, variables: { pad: 'x'.repeat(1024 * 1024) } }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('prevents CSRF: a simple GET query without a preflight header is refused', async () => {
    const url = new URL(stack.gateway.url);
    url.searchParams.set('query', '{ probePublic }');
    const simple = await fetch(url);
    expect(simple.status).toBe(400);
    const withHeader = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(withHeader.status).toBe(200);
    expect(await withHeader.json()).toEqual({ data: { probePublic: 'public' } });
  });

  it('shows the Sandbox on GET in development and nothing of the kind in production', async () => {
    const dev = await fetch(stack.gateway.url, { headers: { accept: 'text/html' } });
    expect(dev.status).toBe(200);
    expect(await dev.text()).toMatch(/sandbox/i);

    const production = await stack.startGatewayWith({ production: true, corsOrigins: [ALLOWED_ORIGIN] });
    const page = await fetch(production.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/sandbox/i);
    const introspection = await postGraphQL(production.url, { query: '{ __schema { queryType { name } } }' });
    expect(firstCode(introspection)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses wildcard CORS in production', async () => {
    await expect(stack.startGatewayWith({ production: true, corsOrigins: ['*'] })).rejects.toThrow(/Wildcard/);
  });
});
