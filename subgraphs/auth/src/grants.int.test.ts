import {
  generateInternalKeyPair,
  importInternalSigningKey,
  INTERNAL_TOKEN_ISSUER,
  type Identity,
} from '@supergraph/platform';
import { userIdentity } from '@supergraph/testing';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { GRANT_TTL_SECONDS } from './grants.service.ts';
import { GRANTS_PATH, JWKS_PATH } from './server.ts';
import { ANONYMOUS, AuthHarness, identityFor } from '../test/harness.ts';

const SET = `mutation ($provider: String!, $key: String!) { setProviderKey(provider: $provider, key: $key) { last4 } }`;

let harness: AuthHarness;
let consoleSpies: MockInstance[] = [];
let logged: string[] = [];

beforeAll(async () => {
  harness = await AuthHarness.start();
});

afterAll(async () => {
  await harness?.stop();
});

beforeEach(() => {
  logged = [];
  consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
    }),
  );
});

afterEach(() => {
  for (const spy of consoleSpies) spy.mockRestore();
});

interface GrantAnswer {
  status: number;
  headers: Headers;
  body: {
    accessToken?: string;
    expiresAt?: string;
    providerKey?: string | null;
    errors?: Array<{ message: string; extensions: { code: string } }>;
  };
}

/** POST /internal/grants as the conversation subgraph would, with the token its request carried. */
async function requestGrant(
  options: { token?: string | null; body?: string; method?: string; contentType?: string } = {},
): Promise<GrantAnswer> {
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  if (options.token) headers['x-internal-token'] = options.token;
  const method = options.method ?? 'POST';
  const response = await fetch(`${harness.baseUrl}${GRANTS_PATH}`, {
    method,
    headers,
    ...(method === 'GET' ? {} : { body: options.body ?? JSON.stringify({ provider: null }) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as GrantAnswer['body'] };
}

async function conversationToken(identity: Identity): Promise<string> {
  return harness.internalToken(identity, 'conversation');
}

/** The claims the gateway would verify (JWKS, EdDSA, typ, iss, aud). */
async function verifiedClaims(accessToken: string) {
  const jwks = createRemoteJWKSet(new URL(`${harness.baseUrl}${JWKS_PATH}`), { cacheMaxAge: 0, cooldownDuration: 0 });
  const { payload } = await jwtVerify(accessToken, jwks, {
    algorithms: ['EdDSA'],
    issuer: harness.config.issuer,
    audience: harness.config.audience,
    typ: 'at+jwt',
  });
  return payload;
}

function expectError(answer: GrantAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toEqual({ errors: [{ message: expect.any(String), extensions: { code } }] });
}

describe('POST /internal/grants', () => {
  it('mints a 5-minute access token like a login, narrowed to read scopes, acting as conversation', async () => {
    const { user, identity, payload: login } = await harness.signUp();
    const answer = await requestGrant({ token: await conversationToken(identity) });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body.providerKey).toBeNull();
    const claims = await verifiedClaims(answer.body.accessToken as string);
    const loginClaims = await verifiedClaims(login.accessToken);
    expect(decodeProtectedHeader(answer.body.accessToken as string)).toEqual(decodeProtectedHeader(login.accessToken));
    expect(claims).toMatchObject({
      sub: user.id,
      sid: loginClaims['sid'],
      iss: loginClaims.iss,
      aud: loginClaims.aud,
      roles: ['user'],
      tier: 'free',
      scope: 'knowledge:read storage:read',
      act: { sub: 'conversation' },
    });
    expect(typeof claims.jti).toBe('string');
    expect(Math.floor((claims['iat_ms'] as number) / 1000)).toBe(claims.iat);
    expect((claims.exp as number) - (claims.iat as number)).toBe(GRANT_TTL_SECONDS);
    expect(new Date(answer.body.expiresAt as string).getTime()).toBe((claims.exp as number) * 1000);
  });

  it('returns the decrypted provider key asked for, null for a provider without one', async () => {
    const { identity } = await harness.signUp();
    const key = `sk-proj-${Math.random().toString(36).slice(2)}A1b2C3`;
    await harness.ok(SET, { provider: 'openai', key }, identity);
    const token = await conversationToken(identity);
    const withKey = await requestGrant({ token, body: JSON.stringify({ provider: 'openai' }) });
    expect(withKey.status).toBe(200);
    expect(withKey.body.providerKey).toBe(key);
    const without = await requestGrant({ token, body: JSON.stringify({ provider: 'anthropic' }) });
    expect(without.status).toBe(200);
    expect(without.body.providerKey).toBeNull();
    expect(logged.join('\n')).not.toContain(key);
  });

  it("never hands out another user's key: the user is the token's, not the body's", async () => {
    const alice = await harness.signUp();
    const bob = await harness.signUp();
    await harness.ok(SET, { provider: 'openai', key: 'sk-alice-only-12345' }, alice.identity);
    const answer = await requestGrant({
      token: await conversationToken(bob.identity),
      body: JSON.stringify({ provider: 'openai' }),
    });
    expect(answer.body.providerKey).toBeNull();
  });

  it("narrows to what the request held: an API key's scopes, no session, never admin", async () => {
    const { user } = await harness.signUp();
    const viaKey = identityFor(user.id, 'user', { scopes: ['knowledge:read', 'profile:write'], via: 'api_key' });
    const answer = await requestGrant({ token: await conversationToken(viaKey) });
    expect(answer.status).toBe(200);
    const claims = await verifiedClaims(answer.body.accessToken as string);
    expect(claims['scope']).toBe('knowledge:read');
    expect(claims['sid']).toBeUndefined();

    const admin = await harness.signUp();
    const adminIdentity = await harness.makeAdmin(admin.user.id);
    const adminGrant = await requestGrant({ token: await conversationToken(adminIdentity) });
    const adminClaims = await verifiedClaims(adminGrant.body.accessToken as string);
    expect(adminClaims).toMatchObject({ roles: ['user'], scope: 'knowledge:read storage:read' });
  });

  it('follows the current role, not the token: scopes the role no longer grants are dropped', async () => {
    const { user } = await harness.signUp();
    // A token claiming scopes no role grants (forged by nobody, but stale or odd): only the grant set survives.
    const odd = identityFor(user.id, 'user', { scopes: ['storage:read', 'storage:admin', 'admin'] });
    const answer = await requestGrant({ token: await conversationToken(odd) });
    expect((await verifiedClaims(answer.body.accessToken as string))['scope']).toBe('storage:read');
  });

  it('refuses a missing, forged, expired or other-audience token with 401 UNAUTHENTICATED', async () => {
    const { identity } = await harness.signUp();
    expectError(await requestGrant({ token: null }), 401, 'UNAUTHENTICATED');
    expectError(await requestGrant({ token: 'not-a-jwt' }), 401, 'UNAUTHENTICATED');

    const stranger = await importInternalSigningKey(generateInternalKeyPair().privateKeyPem);
    const forged = await new SignJWT({ roles: ['user'], scopes: identity.scopes, tier: 'free', via: 'jwt' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'internal+jwt' })
      .setIssuer(INTERNAL_TOKEN_ISSUER)
      .setAudience('conversation')
      .setSubject(identity.userId as string)
      .setIssuedAt()
      .setExpirationTime('30s')
      .sign(stranger);
    expectError(await requestGrant({ token: forged }), 401, 'UNAUTHENTICATED');

    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ roles: ['user'], scopes: identity.scopes, tier: 'free', via: 'jwt' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'internal+jwt' })
      .setIssuer(INTERNAL_TOKEN_ISSUER)
      .setAudience('conversation')
      .setSubject(identity.userId as string)
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(harness.internalSigningKey);
    expectError(await requestGrant({ token: expired }), 401, 'UNAUTHENTICATED');

    // What the gateway sends auth itself: replaying that hop here must not work.
    expectError(await requestGrant({ token: await harness.internalToken(identity, 'auth') }), 401, 'UNAUTHENTICATED');
    expectError(
      await requestGrant({ token: await harness.internalToken(identity, 'knowledge') }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('refuses callers that are not a signed-in user (anonymous, the gateway itself, a made-up id)', async () => {
    expectError(await requestGrant({ token: await conversationToken(ANONYMOUS) }), 401, 'UNAUTHENTICATED');
    const gateway: Identity = { userId: 'system:gateway', roles: [], scopes: [], tier: 'free', via: 'gateway' };
    expectError(await requestGrant({ token: await conversationToken(gateway) }), 401, 'UNAUTHENTICATED');
    expectError(await requestGrant({ token: await conversationToken(userIdentity()) }), 401, 'UNAUTHENTICATED');
  });

  it('refuses a deactivated user with 403 FORBIDDEN', async () => {
    const { user, identity } = await harness.signUp();
    await harness.db.updateTable('users').set({ is_active: false }).where('id', '=', user.id).execute();
    expectError(await requestGrant({ token: await conversationToken(identity) }), 403, 'FORBIDDEN');
  });

  it('refuses a request whose session was revoked since (logout), while the internal token is still fresh', async () => {
    const { identity } = await harness.signUp();
    const token = await conversationToken(identity);
    expect((await requestGrant({ token })).status).toBe(200);
    expect(await harness.ok('mutation { logout }', {}, identity)).toEqual({ logout: true });
    expectError(await requestGrant({ token }), 401, 'UNAUTHENTICATED');
    const foreignSession = identityFor(identity.userId as string, 'user', {
      sessionId: '00000000-0000-4000-8000-000000000001',
    });
    expectError(await requestGrant({ token: await conversationToken(foreignSession) }), 401, 'UNAUTHENTICATED');
  });

  it.each([
    ['malformed JSON', '{"provider":', 'application/json'],
    ['an empty body', '', 'application/json'],
    ['an array', '[]', 'application/json'],
    ['a string', '"openai"', 'application/json'],
    ['no provider field', '{}', 'application/json'],
    ['an extra field', '{"provider":null,"userId":"x"}', 'application/json'],
    ['a numeric provider', '{"provider":7}', 'application/json'],
    ['a bad provider name', '{"provider":"Open AI"}', 'application/json'],
    ['a non-JSON content type', '{"provider":null}', 'text/plain'],
  ])('answers %s with 400 BAD_REQUEST', async (_label, body, contentType) => {
    const { identity } = await harness.signUp();
    expectError(
      await requestGrant({ token: await conversationToken(identity), body, contentType }),
      400,
      'BAD_REQUEST',
    );
  });

  it('answers a big body with 413 and a GET with 405', async () => {
    const { identity } = await harness.signUp();
    const token = await conversationToken(identity);
    expectError(
      await requestGrant({ token, body: JSON.stringify({ provider: 'x'.repeat(4096) }) }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const get = await requestGrant({ token, method: 'GET' });
    expectError(get, 405, 'METHOD_NOT_ALLOWED');
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('is not reachable through GraphQL, and logs nothing about grants', async () => {
    const { identity } = await harness.signUp();
    const result = await harness.gql('{ grant { accessToken } }', {}, identity);
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const answer = await requestGrant({ token: await conversationToken(identity) });
    expect(logged.join('\n')).not.toContain(answer.body.accessToken as string);
    expect(logged).toEqual([]);
  });
});
