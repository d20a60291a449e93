import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANONYMOUS,
  AuthHarness,
  GATEWAY_IDENTITY,
  firstError,
  identityFor,
  type SignedUpUser,
} from '../test/harness.ts';

const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on User { id username email preferences isActive role tier createdAt } }
}`;

let harness: AuthHarness;
let alice: SignedUpUser;
let bob: SignedUpUser;

beforeAll(async () => {
  harness = await AuthHarness.start();
  alice = await harness.signUp(harness.uniqueName('alice'));
  bob = await harness.signUp(harness.uniqueName('bob'));
  await harness.ok(
    'mutation ($p: JSON!) { updatePreferences(preferences: $p) { id } }',
    { p: { theme: 'dark', secret: 'bob-only' } },
    bob.identity,
  );
});

afterAll(async () => {
  await harness?.stop();
});

describe('privacy of User', () => {
  it("_entities never shows another user's email, preferences or status", async () => {
    const data = await harness.ok<{ _entities: Array<Record<string, unknown>> }>(
      ENTITIES,
      { representations: [{ __typename: 'User', id: bob.user.id }] },
      alice.identity,
    );
    expect(data._entities[0]).toMatchObject({
      id: bob.user.id,
      username: bob.user.username,
      email: null,
      preferences: null,
      isActive: null,
      role: 'USER',
    });
    expect(JSON.stringify(data)).not.toContain('bob-only');
    const anonymous = await harness.ok<{ _entities: Array<Record<string, unknown>> }>(
      ENTITIES,
      { representations: [{ __typename: 'User', id: bob.user.id }] },
      ANONYMOUS,
    );
    expect(anonymous._entities[0]).toMatchObject({ email: null, preferences: null });
  });

  it('_entities shows private fields to the user themself and to an admin', async () => {
    const self = await harness.ok<{ _entities: Array<Record<string, unknown>> }>(
      ENTITIES,
      { representations: [{ __typename: 'User', id: bob.user.id }] },
      bob.identity,
    );
    expect(self._entities[0]).toMatchObject({
      email: bob.user.email,
      preferences: { theme: 'dark', secret: 'bob-only' },
      isActive: true,
    });
    const admin = identityFor('00000000-0000-4000-8000-00000000000a', 'admin');
    const asAdmin = await harness.ok<{ _entities: Array<Record<string, unknown>> }>(
      ENTITIES,
      { representations: [{ __typename: 'User', id: bob.user.id }] },
      admin,
    );
    expect(asAdmin._entities[0]).toMatchObject({ email: bob.user.email });
  });

  it('resolves many references in order, null for unknown or malformed ids', async () => {
    const data = await harness.ok<{ _entities: Array<{ id: string } | null> }>(
      ENTITIES,
      {
        representations: [
          { __typename: 'User', id: bob.user.id },
          { __typename: 'User', id: '00000000-0000-4000-8000-000000000000' },
          { __typename: 'User', id: 'not-a-uuid' },
          { __typename: 'User', id: alice.user.id.toUpperCase() },
        ],
      },
      alice.identity,
    );
    expect(data._entities.map((entity) => entity?.id ?? null)).toEqual([bob.user.id, null, null, alice.user.id]);
  });
});

describe('preferences', () => {
  const UPDATE = 'mutation ($p: JSON!) { updatePreferences(preferences: $p) { preferences } }';

  it('stores a JSON object for the caller only', async () => {
    const data = await harness.ok<{ updatePreferences: { preferences: unknown } }>(
      UPDATE,
      { p: { lang: 'fr', nested: { a: [1, 2] } } },
      alice.identity,
    );
    expect(data.updatePreferences.preferences).toEqual({ lang: 'fr', nested: { a: [1, 2] } });
    const bobs = await harness.db
      .selectFrom('users')
      .select('preferences')
      .where('id', '=', bob.user.id)
      .executeTakeFirstOrThrow();
    expect(bobs.preferences).toEqual({ theme: 'dark', secret: 'bob-only' });
  });

  it.each([
    ['an array', [1, 2]],
    ['a string', 'dark'],
    ['a number', 42],
    ['null', null],
    ['over 16 KiB', { blob: 'x'.repeat(16 * 1024) }],
    ['nested deeper than 8 levels', { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } }],
  ])('rejects %s', async (_case, value) => {
    const result = await harness.gql(UPDATE, { p: value }, alice.identity);
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT' });
    if (value !== null) expect(firstError(result).field).toBe('preferences');
  });

  it('needs profile:write', async () => {
    expect(firstError(await harness.gql(UPDATE, { p: {} })).code).toBe('UNAUTHENTICATED');
    const readOnly = identityFor(alice.user.id, 'user', { scopes: ['profile:read'], via: 'api_key' });
    expect(firstError(await harness.gql(UPDATE, { p: {} }, readOnly)).code).toBe('FORBIDDEN');
  });
});

describe('admin-only fields', () => {
  const adminOperations: Array<[string, Record<string, unknown>]> = [
    ['{ users { edges { node { id } } } }', {}],
    ['mutation ($id: ID!) { setUserRole(userId: $id, role: ADMIN) { id } }', {}],
    ['mutation ($id: ID!) { setUserTier(userId: $id, tier: PRO) { id } }', {}],
    ['mutation ($id: ID!) { deactivateUser(userId: $id) { id } }', {}],
    ['mutation ($id: ID!) { reactivateUser(userId: $id) { id } }', {}],
  ];

  it('answer FORBIDDEN to a non-admin and UNAUTHENTICATED to anonymous callers, changing nothing', async () => {
    for (const [query] of adminOperations) {
      const variables = query.includes('$id') ? { id: alice.user.id } : {};
      expect(firstError(await harness.gql(query, variables, bob.identity)).code).toBe('FORBIDDEN');
      expect(firstError(await harness.gql(query, variables, ANONYMOUS)).code).toBe('UNAUTHENTICATED');
    }
    const row = await harness.db
      .selectFrom('users')
      .select(['role', 'tier', 'is_active'])
      .where('id', '=', alice.user.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ role: 'user', tier: 'free', is_active: true });
  });

  it('refuse an admin scope in the token when the database says the caller is no admin (anymore)', async () => {
    const stale = identityFor(bob.user.id, 'admin');
    expect(firstError(await harness.gql('{ users { edges { node { id } } } }', {}, stale)).code).toBe('FORBIDDEN');
  });

  it('users pages through everyone with a keyset cursor', async () => {
    const { user } = await harness.signUp(harness.uniqueName('root'));
    const admin = await harness.makeAdmin(user.id);
    for (let index = 0; index < 3; index += 1) await harness.register();
    const total = Number(
      (
        await harness.db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    const query =
      'query ($first: Int, $after: String) { users(first: $first, after: $after) { edges { cursor node { id email } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }';
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const data: {
        users: {
          edges: Array<{ node: { id: string; email: string | null } }>;
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
      } = await harness.ok(query, { first: 2, after }, admin);
      seen.push(...data.users.edges.map((edge) => edge.node.id));
      for (const edge of data.users.edges) expect(edge.node.email).toMatch(/@example\.com$/);
      if (!data.users.pageInfo.hasNextPage) break;
      after = data.users.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);

    for (const first of [0, 101, -1]) {
      expect(firstError(await harness.gql(query, { first }, admin))).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'first',
      });
    }
    expect(firstError(await harness.gql(query, { after: 'bogus' }, admin))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'after',
    });
  });

  it('setUserRole and setUserTier change users; admins cannot change their own role; unknown users are NOT_FOUND', async () => {
    const { user } = await harness.signUp(harness.uniqueName('boss'));
    const admin = await harness.makeAdmin(user.id);
    const target = await harness.signUp();
    const role = await harness.ok<{ setUserRole: { role: string } }>(
      'mutation ($id: ID!) { setUserRole(userId: $id, role: ADMIN) { role } }',
      { id: target.user.id },
      admin,
    );
    expect(role.setUserRole.role).toBe('ADMIN');
    const tier = await harness.ok<{ setUserTier: { tier: string } }>(
      'mutation ($id: ID!) { setUserTier(userId: $id, tier: ENTERPRISE) { tier } }',
      { id: target.user.id },
      admin,
    );
    expect(tier.setUserTier.tier).toBe('ENTERPRISE');
    // Tokens issued from now on carry the new role and tier.
    const login = await harness.login(target.user.username);
    const identity = await harness.identityFromAccessToken(login.accessToken);
    expect(identity).toMatchObject({ roles: ['admin'], tier: 'enterprise' });
    expect(identity.scopes).toContain('admin');

    const self = await harness.gql(
      'mutation ($id: ID!) { setUserRole(userId: $id, role: USER) { role } }',
      { id: user.id },
      admin,
    );
    expect(firstError(self)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
    const unknown = await harness.gql(
      'mutation ($id: ID!) { setUserTier(userId: $id, tier: PRO) { tier } }',
      { id: '00000000-0000-4000-8000-000000000000' },
      admin,
    );
    expect(firstError(unknown).code).toBe('NOT_FOUND');
    const malformed = await harness.gql('mutation { setUserTier(userId: "nope", tier: PRO) { tier } }', {}, admin);
    expect(firstError(malformed)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  });

  it('deactivateUser kills sessions, refresh families and API keys at once; reactivation restores login only', async () => {
    const { user } = await harness.signUp(harness.uniqueName('chief'));
    const admin = await harness.makeAdmin(user.id);
    const victim = await harness.signUp();
    const key = await harness.ok<{ createApiKey: { key: string } }>(
      'mutation { createApiKey(name: "k", scopes: ["storage:write"]) { key } }',
      {},
      victim.identity,
    );
    const resolve = async (variables: Record<string, unknown>) =>
      (
        await harness.ok<{ resolveCredential: unknown }>(
          'query ($k: String, $s: String) { resolveCredential(apiKey: $k, sessionToken: $s) { userId } }',
          variables,
          GATEWAY_IDENTITY,
        )
      ).resolveCredential;
    expect(await resolve({ k: key.createApiKey.key })).not.toBeNull();

    const data = await harness.ok<{ deactivateUser: { isActive: boolean } }>(
      'mutation ($id: ID!) { deactivateUser(userId: $id) { isActive } }',
      { id: victim.user.id },
      admin,
    );
    expect(data.deactivateUser.isActive).toBe(false);
    expect(await resolve({ k: key.createApiKey.key })).toBeNull();
    expect(await resolve({ s: victim.payload.sessionToken })).toBeNull();
    const refresh = await harness.gql('mutation ($t: String!) { refresh(refreshToken: $t) { accessToken } }', {
      t: victim.payload.refreshToken,
    });
    expect(firstError(refresh).code).toBe('UNAUTHENTICATED');
    const rows = await harness.db
      .selectFrom('api_keys')
      .select('revoked_at')
      .where('user_id', '=', victim.user.id)
      .unionAll(harness.db.selectFrom('sessions').select('revoked_at').where('user_id', '=', victim.user.id))
      .unionAll(harness.db.selectFrom('refresh_tokens').select('revoked_at').where('user_id', '=', victim.user.id))
      .execute();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.every((row) => row.revoked_at !== null)).toBe(true);

    const selfDeactivate = await harness.gql(
      'mutation ($id: ID!) { deactivateUser(userId: $id) { id } }',
      { id: user.id },
      admin,
    );
    expect(firstError(selfDeactivate)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });

    await harness.ok('mutation ($id: ID!) { reactivateUser(userId: $id) { id } }', { id: victim.user.id }, admin);
    expect(await resolve({ k: key.createApiKey.key })).toBeNull();
    await harness.login(victim.user.username);
  });
});

describe('platformStats', () => {
  it('counts active users by tier and live sessions for any signed-in user', async () => {
    const data = await harness.ok<{
      platformStats: {
        totalUsers: number;
        activeSessions: number;
        usersByTier: Array<{ tier: string; users: number }>;
      };
    }>('{ platformStats { totalUsers activeSessions usersByTier { tier users } } }', {}, alice.identity);
    const active = await harness.db.selectFrom('users').select('tier').where('is_active', '=', true).execute();
    expect(data.platformStats.totalUsers).toBe(active.length);
    expect(data.platformStats.usersByTier.map((row) => row.tier)).toEqual(['FREE', 'PRO', 'ENTERPRISE']);
    expect(data.platformStats.usersByTier.reduce((sum, row) => sum + row.users, 0)).toBe(active.length);
    expect(data.platformStats.activeSessions).toBeGreaterThan(0);
    expect(firstError(await harness.gql('{ platformStats { totalUsers } }')).code).toBe('UNAUTHENTICATED');
  });
});
