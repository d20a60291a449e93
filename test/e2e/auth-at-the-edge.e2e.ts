import { SignJWT, base64url, importJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateInternalKeyPair,
  importInternalSigningKey,
  loadScopeCatalog,
  signInternalToken,
} from '@supergraph/platform';
import {
  AUDIENCE,
  ISSUER,
  firstCode,
  postGraphQL,
  registerAndLogin,
  startStack,
  type LoggedIn,
  type Stack,
} from './harness.ts';

const CACHE_TTL_MS = 400;
const NEGATIVE_CACHE_TTL_MS = 200;
const ME = '{ me { id username email } }';

let stack: Stack;
let alice: LoggedIn & { username: string };

beforeAll(async () => {
  stack = await startStack({
    supergraph: 'all',
    gateway: { credentialCacheTtlMs: CACHE_TTL_MS, negativeCredentialCacheTtlMs: NEGATIVE_CACHE_TTL_MS },
  });
  alice = await registerAndLogin(stack, 'alice');
});

afterAll(async () => {
  await stack?.stop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Access-token claims as auth issues them, for a token signed by `key` with `header`. */
async function accessToken(
  key: Parameters<SignJWT['sign']>[0],
  header: { alg: string; kid?: string; typ?: string },
  claims: { iss?: string; aud?: string; exp?: number; iat?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    sid: 'x',
    roles: ['admin'],
    tier: 'enterprise',
    scope: `${loadScopeCatalog().user.join(' ')} admin`,
  })
    .setProtectedHeader(header)
    .setSubject(alice.userId)
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 300)
    .sign(key);
}

async function realKey() {
  return importJWK(stack.signingJwk, 'EdDSA');
}

describe('register → login → me through the gateway', () => {
  it('answers me for a bearer token and null anonymously', async () => {
    const mine = await stack.gql(ME, undefined, bearer(alice.accessToken));
    expect(mine.body.errors).toBeUndefined();
    expect(mine.body.data?.['me']).toMatchObject({
      id: alice.userId,
      username: alice.username,
      email: `${alice.username}@example.test`,
    });

    const anonymous = await stack.gql(ME);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.data?.['me']).toBeNull();
  });

  it('accepts a token we sign with the real key and the real claims (control for the forgeries below)', async () => {
    const token = await accessToken(await realKey(), {
      alg: 'EdDSA',
      kid: String(stack.signingJwk.kid),
      typ: 'at+jwt',
    });
    const result = await stack.gql(ME, undefined, bearer(token));
    expect(result.body.data?.['me']).toMatchObject({ id: alice.userId });
  });
});

describe('forged or misused tokens are UNAUTHENTICATED', () => {
  const kid = () => String(stack.signingJwk.kid);

  const cases: Array<[string, () => Promise<string>]> = [
    [
      'alg: none',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: kid() }));
        const payload = base64url.encode(
          JSON.stringify({ sub: alice.userId, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, scope: 'admin' }),
        );
        return `${header}.${payload}.`;
      },
    ],
    [
      'HS256 signed with the public key bytes',
      async () =>
        accessToken(base64url.decode(String(stack.signingJwk.x)), { alg: 'HS256', kid: kid(), typ: 'at+jwt' }),
    ],
    [
      'HS256 signed with the public JWK as a string',
      async () => {
        const { d: _d, ...publicJwk } = stack.signingJwk;
        return accessToken(new TextEncoder().encode(JSON.stringify(publicJwk)), {
          alg: 'HS256',
          kid: kid(),
          typ: 'at+jwt',
        });
      },
    ],
    [
      'an unknown kid (key not in the JWKS)',
      async () => {
        const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
        return accessToken(privateKey, { alg: 'EdDSA', kid: 'not-a-published-kid', typ: 'at+jwt' });
      },
    ],
    [
      'a foreign key claiming the published kid',
      async () => {
        const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
        return accessToken(privateKey, { alg: 'EdDSA', kid: kid(), typ: 'at+jwt' });
      },
    ],
    [
      'expired',
      async () => {
        const past = Math.floor(Date.now() / 1000) - 3600;
        return accessToken(
          await realKey(),
          { alg: 'EdDSA', kid: kid(), typ: 'at+jwt' },
          { iat: past - 900, exp: past },
        );
      },
    ],
    [
      'wrong issuer',
      async () =>
        accessToken(await realKey(), { alg: 'EdDSA', kid: kid(), typ: 'at+jwt' }, { iss: 'https://evil.test' }),
    ],
    [
      'wrong audience',
      async () => accessToken(await realKey(), { alg: 'EdDSA', kid: kid(), typ: 'at+jwt' }, { aud: 'some-other-api' }),
    ],
    ['no typ header', async () => accessToken(await realKey(), { alg: 'EdDSA', kid: kid() })],
    ['the refresh token used as an access token', async () => alice.refreshToken],
    ['garbage', async () => 'not.a.jwt'],
  ];

  it.each(cases)('%s', async (_name, makeToken) => {
    const result = await stack.gql(ME, undefined, bearer(await makeToken()));
    expect(result.status).toBe(401);
    expect(firstCode(result)).toBe('UNAUTHENTICATED');
    expect(result.body.data ?? null).toBeNull();
  });

  it('refuses a request carrying two credentials', async () => {
    const result = await stack.gql(ME, undefined, {
      ...bearer(alice.accessToken),
      'x-session-token': alice.sessionToken,
    });
    expect(firstCode(result)).toBe('UNAUTHENTICATED');
  });
});

describe('API keys and session tokens', () => {
  const CREATE_KEY = /* GraphQL */ `
    mutation Create($name: String!, $scopes: [String!]!) {
      createApiKey(name: $name, scopes: $scopes) {
        key
        apiKey {
          id
          scopes
        }
      }
    }
  `;

  async function createKey(scopes: string[]) {
    const result = await stack.gql(
      CREATE_KEY,
      { name: `key-${scopes.join('-')}-${Date.now()}`, scopes },
      bearer(alice.accessToken),
    );
    expect(result.body.errors).toBeUndefined();
    return result.body.data?.['createApiKey'] as { key: string; apiKey: { id: string; scopes: string[] } };
  }

  it('authenticates with X-API-Key; a revoked key keeps working while cached and stops after the cache TTL', async () => {
    const { key, apiKey } = await createKey(['profile:read', 'profile:write']);
    // A second gateway whose cache outlives this test shows the caching without racing a clock; it hears of
    // no revocation (revocation.e2e.ts covers the gateways that do), so only the TTL bounds its cache.
    const longCache = await stack.startGatewayWith({ credentialCacheTtlMs: 10 * 60_000, revocations: undefined });
    const meThrough = (url: string) => postGraphQL(url, { query: ME }, { 'x-api-key': key });
    for (const url of [stack.gateway.url, longCache.url]) {
      const mine = await meThrough(url);
      expect(mine.body.data?.['me']).toMatchObject({ id: alice.userId });
    }

    const revoke = await stack.gql(
      'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }',
      { id: apiKey.id },
      bearer(alice.accessToken),
    );
    expect(revoke.body.errors).toBeUndefined();
    const lookupsBefore = stack.authRequests();
    const cached = await meThrough(longCache.url);
    expect(cached.body.data?.['me']).toMatchObject({ id: alice.userId });
    // Only the `me` fetch itself reached auth: the key was not looked up again.
    expect(stack.authRequests()).toBe(lookupsBefore + 1);

    await sleep(CACHE_TTL_MS + 200);
    const after = await meThrough(stack.gateway.url);
    expect(after.status).toBe(401);
    expect(firstCode(after)).toBe('UNAUTHENTICATED');
  });

  it('rejects unknown API keys and caches them only briefly', async () => {
    const unknown = { 'x-api-key': `sg_definitely-not-a-key-${Date.now()}` };
    // A second gateway whose negative cache outlives this test shows the caching without racing a clock.
    const longCache = await stack.startGatewayWith({ negativeCredentialCacheTtlMs: 10 * 60_000 });
    const before = stack.authRequests();
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await postGraphQL(longCache.url, { query: ME }, unknown);
      expect(result.status).toBe(401);
      expect(firstCode(result)).toBe('UNAUTHENTICATED');
      expect(result.body.errors?.[0]?.message).toBe('Invalid or revoked API key');
    }
    expect(stack.authRequests()).toBe(before + 1);

    // Briefly: the main gateway (negative TTL 200 ms) asks again once that has passed.
    const first = await stack.gql(ME, undefined, unknown);
    expect(firstCode(first)).toBe('UNAUTHENTICATED');
    expect(stack.authRequests()).toBe(before + 2);
    await sleep(NEGATIVE_CACHE_TTL_MS + 200);
    const again = await stack.gql(ME, undefined, unknown);
    expect(firstCode(again)).toBe('UNAUTHENTICATED');
    expect(stack.authRequests()).toBe(before + 3);
  });

  it('answers FORBIDDEN when an API key lacks the scope a field requires, before calling auth', async () => {
    const { key } = await createKey(['profile:read']);
    // Warm the credential cache so the only possible auth call would be the operation itself.
    await stack.gql(ME, undefined, { 'x-api-key': key });
    const before = stack.authRequests();
    const result = await stack.gql(
      'mutation { createApiKey(name: "escalate", scopes: ["admin"]) { key } }',
      undefined,
      { 'x-api-key': key },
    );
    expect(result.status).toBe(403);
    expect(firstCode(result)).toBe('FORBIDDEN');
    expect(stack.authRequests()).toBe(before);

    const allowed = await stack.gql('{ apiKeys { id } }', undefined, { 'x-api-key': key });
    expect(allowed.body.errors).toBeUndefined();
  });

  it('authenticates with X-Session-Token; logout ends it within the cache TTL', async () => {
    const bob = await registerAndLogin(stack, 'bob');
    const mine = await stack.gql(ME, undefined, { 'x-session-token': bob.sessionToken });
    expect(mine.body.data?.['me']).toMatchObject({ id: bob.userId });

    const logout = await stack.gql('mutation { logout }', undefined, { 'x-session-token': bob.sessionToken });
    expect(logout.body.errors).toBeUndefined();
    expect(logout.body.data?.['logout']).toBe(true);
    await sleep(CACHE_TTL_MS + 200);
    const after = await stack.gql(ME, undefined, { 'x-session-token': bob.sessionToken });
    expect(firstCode(after)).toBe('UNAUTHENTICATED');
  });
});

describe('directives are enforced at the gateway before planning', () => {
  it('answers UNAUTHENTICATED for an @authenticated field anonymously without calling auth', async () => {
    const before = stack.authRequests();
    const result = await stack.gql('{ sessions { id } }');
    expect(result.status).toBe(401);
    expect(firstCode(result)).toBe('UNAUTHENTICATED');
    expect(stack.authRequests()).toBe(before);
  });

  it('answers FORBIDDEN for an admin field with a user token without calling auth', async () => {
    const before = stack.authRequests();
    const result = await stack.gql('{ users { edges { node { id } } } }', undefined, bearer(alice.accessToken));
    expect(firstCode(result)).toBe('FORBIDDEN');
    expect(stack.authRequests()).toBe(before);
  });

  it('hides @inaccessible resolveCredential from clients', async () => {
    const result = await stack.gql(
      '{ resolveCredential(apiKey: "x") { userId } }',
      undefined,
      bearer(alice.accessToken),
    );
    expect(firstCode(result)).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('subgraphs only trust the gateway', () => {
  it('refuses direct calls without an internal token (_service, _entities)', async () => {
    const service = await postGraphQL(stack.auth.url, { query: '{ _service { sdl } }' });
    expect(service.status).toBe(401);
    expect(firstCode(service)).toBe('UNAUTHENTICATED');
    const entities = await postGraphQL(stack.auth.url, {
      query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }',
      variables: { r: [{ __typename: 'User', id: alice.userId }] },
    });
    expect(entities.status).toBe(401);
    expect(entities.body.data ?? null).toBeNull();
  });

  it('refuses an internal token signed with another key, directly or through the gateway', async () => {
    const other = generateInternalKeyPair();
    const forged = await signInternalToken(
      {
        userId: alice.userId,
        roles: ['admin'],
        scopes: ['admin', 'internal:credentials'],
        tier: 'enterprise',
        via: 'jwt',
      },
      'auth',
      await importInternalSigningKey(other.privateKeyPem),
    );
    const direct = await postGraphQL(stack.auth.url, { query: '{ me { id } }' }, { 'x-internal-token': forged });
    expect(direct.status).toBe(401);

    // Through the gateway the client's header is dropped: the request stays anonymous.
    const through = await stack.gql(ME, undefined, { 'x-internal-token': forged, 'x-user-id': alice.userId });
    expect(through.body.errors).toBeUndefined();
    expect(through.body.data?.['me']).toBeNull();
  });
});

describe('HTTP edge', () => {
  it('serves /health and the Sandbox landing page on GET in development', async () => {
    const base = new URL(stack.gateway.url);
    const health = await fetch(new URL('/health', base));
    expect(health.status).toBe(200);
    const page = await fetch(stack.gateway.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/sandbox/i);
  });
});
