import { SignJWT, importJWK } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '@supergraph/db';
import { loadScopeCatalog } from '@supergraph/platform';
import {
  AUDIENCE,
  ISSUER,
  LOGIN,
  firstCode,
  newUser,
  postGraphQL,
  REGISTER,
  type GraphQLResult,
  type Stack,
  startStack,
} from './harness.ts';

const ME = '{ me { id } }';
const CREATE_KEY = 'mutation { createApiKey(name: "after-revocation", scopes: ["profile:read"]) { key } }';
/** Revocations must reach the gateway within seconds; polled, never slept. */
const DEADLINE_MS = 5_000;

let stack: Stack;

beforeAll(async () => {
  // Cached API keys and sessions outlive every test here: only a revocation can drop them in time.
  stack = await startStack({
    supergraph: 'all',
    gateway: { credentialCacheTtlMs: 10 * 60_000 },
    // Every test signs up and logs in several users from one address.
    authRateLimits: { overrides: { 'Mutation.register': { max: 1_000 }, 'Mutation.login': { max: 1_000 } } },
  });
});

afterAll(async () => {
  await stack?.stop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

interface Account {
  userId: string;
  username: string;
  password: string;
  accessToken: string;
  sessionToken: string;
}

async function login(username: string, password: string): Promise<Omit<Account, 'username' | 'password'>> {
  const result = await stack.gql(LOGIN, { input: { usernameOrEmail: username, password } });
  if (result.body.errors) throw new Error(`login failed: ${JSON.stringify(result.body.errors)}`);
  const payload = result.body.data?.['login'] as { accessToken: string; sessionToken: string; user: { id: string } };
  return { userId: payload.user.id, accessToken: payload.accessToken, sessionToken: payload.sessionToken };
}

async function account(prefix: string): Promise<Account> {
  const input = newUser(prefix);
  const registered = await stack.gql(REGISTER, { input });
  if (registered.body.errors) throw new Error(`register failed: ${JSON.stringify(registered.body.errors)}`);
  return { username: input.username, password: input.password, ...(await login(input.username, input.password)) };
}

async function admin(): Promise<Account> {
  const user = await account('admin');
  // No API makes the first admin: promote in the database, as an operator would, then log in again for the scopes.
  const owner = createDatabase<{ users: { id: string; role: string } }>(stack.db.target, { schema: 'auth' });
  try {
    await sql`update auth.users set role = 'admin' where id = ${user.userId}`.execute(owner.db);
  } finally {
    await owner.close();
  }
  return { ...user, ...(await login(user.username, user.password)) };
}

async function mutate(query: string, variables: Record<string, unknown>, token: string): Promise<void> {
  const result = await stack.gql(query, variables, bearer(token));
  if (result.body.errors) throw new Error(`${query} failed: ${JSON.stringify(result.body.errors)}`);
}

/** Polls `request` until the gateway refuses it with 401 UNAUTHENTICATED; fails after {@link DEADLINE_MS}. */
async function refusedWithin(request: () => Promise<GraphQLResult>): Promise<GraphQLResult> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const result = await request();
    if (result.status === 401 && firstCode(result) === 'UNAUTHENTICATED') return result;
    if (Date.now() > deadline)
      throw new Error(`still accepted after ${DEADLINE_MS} ms: ${JSON.stringify(result.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function expectWorks(token: string, url = stack.gateway.url): Promise<void> {
  const mine = await postGraphQL(url, { query: ME }, bearer(token));
  expect(mine.body.errors).toBeUndefined();
  expect(mine.body.data?.['me']).toMatchObject({ id: expect.any(String) });
}

/** The old token is refused at the edge (no subgraph asked) for a read and for `createApiKey`. */
async function expectRefusedAtTheEdge(token: string): Promise<void> {
  await refusedWithin(() => stack.gql(ME, undefined, bearer(token)));
  const before = stack.authRequests();
  const created = await stack.gql(CREATE_KEY, undefined, bearer(token));
  expect(created.status).toBe(401);
  expect(firstCode(created)).toBe('UNAUTHENTICATED');
  expect(created.body.data ?? null).toBeNull();
  expect(stack.authRequests()).toBe(before);
}

describe('revocations reach the gateway', () => {
  it('logoutEverywhere: access tokens and cached session tokens issued before stop; a new login works', async () => {
    const user = await account('everywhere');
    await expectWorks(user.accessToken);
    const cachedSession = await stack.gql(ME, undefined, { 'x-session-token': user.sessionToken });
    expect(cachedSession.body.data?.['me']).toMatchObject({ id: user.userId });

    await mutate('mutation { logoutEverywhere }', {}, user.accessToken);
    await expectRefusedAtTheEdge(user.accessToken);
    await refusedWithin(() => stack.gql(ME, undefined, { 'x-session-token': user.sessionToken }));

    const again = await login(user.username, user.password);
    await expectWorks(again.accessToken);
    const created = await stack.gql(CREATE_KEY, undefined, bearer(again.accessToken));
    expect(created.body.errors).toBeUndefined();
  });

  it('changePassword: every earlier access token stops; a login with the new password works', async () => {
    const user = await account('password');
    const other = await login(user.username, user.password);
    await mutate(
      'mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }',
      { current: user.password, next: 'Another-Horse-7-Battery' },
      user.accessToken,
    );
    await expectRefusedAtTheEdge(other.accessToken);
    await expectRefusedAtTheEdge(user.accessToken);
    await expectWorks((await login(user.username, 'Another-Horse-7-Battery')).accessToken);
  });

  it('deactivateUser: the access token and a cached API key stop; after reactivation a new login works', async () => {
    const root = await admin();
    const user = await account('deactivated');
    const created = await stack.gql(CREATE_KEY, undefined, bearer(user.accessToken));
    const key = (created.body.data?.['createApiKey'] as { key: string }).key;
    const viaKey = () => stack.gql(ME, undefined, { 'x-api-key': key });
    expect((await viaKey()).body.data?.['me']).toMatchObject({ id: user.userId });

    await mutate('mutation($id: ID!) { deactivateUser(userId: $id) { id } }', { id: user.userId }, root.accessToken);
    await expectRefusedAtTheEdge(user.accessToken);
    await refusedWithin(viaKey);

    await mutate('mutation($id: ID!) { reactivateUser(userId: $id) { id } }', { id: user.userId }, root.accessToken);
    await expectWorks((await login(user.username, user.password)).accessToken);
  });

  it('setUserRole and setUserTier: tokens carrying the old role or tier stop; the next login carries the new one', async () => {
    const root = await admin();
    const user = await account('promoted');
    await mutate(
      'mutation($id: ID!) { setUserRole(userId: $id, role: ADMIN) { id } }',
      { id: user.userId },
      root.accessToken,
    );
    await expectRefusedAtTheEdge(user.accessToken);
    const promoted = await login(user.username, user.password);
    await expectWorks(promoted.accessToken);

    await mutate(
      'mutation($id: ID!) { setUserTier(userId: $id, tier: PRO) { id } }',
      { id: user.userId },
      root.accessToken,
    );
    await expectRefusedAtTheEdge(promoted.accessToken);
    await expectWorks((await login(user.username, user.password)).accessToken);
  });

  it('revokeApiKey drops the key from the gateway cache at once', async () => {
    const user = await account('keys');
    const created = await stack.gql(
      'mutation { createApiKey(name: "short-lived", scopes: ["profile:read"]) { key apiKey { id } } }',
      undefined,
      bearer(user.accessToken),
    );
    const { key, apiKey } = created.body.data?.['createApiKey'] as { key: string; apiKey: { id: string } };
    const viaKey = () => stack.gql(ME, undefined, { 'x-api-key': key });
    expect((await viaKey()).body.data?.['me']).toMatchObject({ id: user.userId });
    await mutate('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: apiKey.id }, user.accessToken);
    await refusedWithin(viaKey);
    // The access token itself is not revoked by a key revocation.
    await expectWorks(user.accessToken);
  });

  it('logout ends only that session: its token stops, another session of the user keeps working', async () => {
    const user = await account('logout');
    const other = await login(user.username, user.password);
    await mutate('mutation { logout }', {}, user.accessToken);
    await expectRefusedAtTheEdge(user.accessToken);
    await expectWorks(other.accessToken);
  });

  it('every gateway sees a revocation (each with its own Redis subscription), and one started later loads it', async () => {
    const second = await stack.startGatewayWith({});
    const user = await account('fleet');
    await expectWorks(user.accessToken, second.url);
    await mutate('mutation { logoutEverywhere }', {}, user.accessToken);
    for (const url of [stack.gateway.url, second.url]) {
      await refusedWithin(() => postGraphQL(url, { query: ME }, bearer(user.accessToken)));
    }
    const later = await stack.startGatewayWith({});
    const refused = await postGraphQL(later.url, { query: ME }, bearer(user.accessToken));
    expect(refused.status).toBe(401);
    expect(firstCode(refused)).toBe('UNAUTHENTICATED');
  });
});

describe('maximum access-token age', () => {
  async function forged(claims: { iat?: number; exp: number }): Promise<string> {
    const user = await account('forged');
    const jwt = new SignJWT({ sid: 'forged', roles: ['user'], tier: 'free', scope: loadScopeCatalog().user.join(' ') })
      .setProtectedHeader({ alg: 'EdDSA', kid: stack.signingJwk.kid as string, typ: 'at+jwt' })
      .setSubject(user.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(claims.exp);
    if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
    return jwt.sign(await importJWK(stack.signingJwk, 'EdDSA'));
  }
  const now = () => Math.floor(Date.now() / 1000);

  it('refuses a token signed with the real key whose exp is ten years ahead', async () => {
    const token = await forged({ iat: now(), exp: now() + 10 * 365 * 86_400 });
    const result = await stack.gql(ME, undefined, bearer(token));
    expect(result.status).toBe(401);
    expect(firstCode(result)).toBe('UNAUTHENTICATED');
  });

  it('refuses a token without iat, and accepts one within the maximum', async () => {
    const withoutIat = await stack.gql(ME, undefined, bearer(await forged({ exp: now() + 300 })));
    expect(withoutIat.status).toBe(401);
    expect(firstCode(withoutIat)).toBe('UNAUTHENTICATED');
    await expectWorks(await forged({ iat: now(), exp: now() + 3_600 }));
  });
});
