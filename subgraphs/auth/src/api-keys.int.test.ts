import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthHarness, GATEWAY_IDENTITY, firstError, identityFor } from '../test/harness.ts';

const CREATE = `mutation ($name: String!, $scopes: [String!]!) {
  createApiKey(name: $name, scopes: $scopes) { key apiKey { id name prefix scopes createdAt lastUsedAt revokedAt } }
}`;
const RESOLVE_KEY = `query ($key: String) { resolveCredential(apiKey: $key) { userId roles scopes tier sessionId } }`;
const LIST = `{ apiKeys { id name prefix scopes createdAt lastUsedAt revokedAt } }`;

interface CreatedKey {
  key: string;
  apiKey: {
    id: string;
    name: string;
    prefix: string;
    scopes: string[];
    lastUsedAt: string | null;
    revokedAt: string | null;
  };
}

let harness: AuthHarness;

beforeAll(async () => {
  harness = await AuthHarness.start();
});

afterAll(async () => {
  await harness?.stop();
});

async function resolveKey(key: string) {
  const data = await harness.ok<{ resolveCredential: Record<string, unknown> | null }>(
    RESOLVE_KEY,
    { key },
    GATEWAY_IDENTITY,
  );
  return data.resolveCredential;
}

describe('API keys', () => {
  it('creates a key shown once, stored hashed, listed without its secret, resolvable by the gateway', async () => {
    const { user, identity } = await harness.signUp();
    const created = (
      await harness.ok<{ createApiKey: CreatedKey }>(
        CREATE,
        { name: ' CI deploy ', scopes: ['knowledge:read', 'storage:write', 'storage:write'] },
        identity,
      )
    ).createApiKey;
    expect(created.key).toMatch(/^sg_[A-Za-z0-9_-]{43}$/);
    expect(created.apiKey).toMatchObject({
      name: 'CI deploy',
      prefix: created.key.slice(3, 11),
      scopes: ['knowledge:read', 'storage:write'],
      lastUsedAt: null,
      revokedAt: null,
    });

    const row = await harness.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', created.apiKey.id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.key.slice(3));

    const listed = await harness.ok<{ apiKeys: Array<Record<string, unknown>> }>(LIST, {}, identity);
    expect(listed.apiKeys).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(created.key);

    expect(await resolveKey(created.key)).toEqual({
      userId: user.id,
      roles: ['user'],
      scopes: ['knowledge:read', 'storage:write'],
      tier: 'free',
      sessionId: null,
    });
    const used = await harness.db
      .selectFrom('api_keys')
      .select('last_used_at')
      .where('id', '=', created.apiKey.id)
      .executeTakeFirstOrThrow();
    expect(used.last_used_at).toBeInstanceOf(Date);
  });

  it('updates last_used_at at most once a minute', async () => {
    const { identity } = await harness.signUp();
    const created = (
      await harness.ok<{ createApiKey: CreatedKey }>(CREATE, { name: 'k', scopes: ['storage:write'] }, identity)
    ).createApiKey;
    await resolveKey(created.key);
    const first = await harness.db
      .selectFrom('api_keys')
      .select('last_used_at')
      .where('id', '=', created.apiKey.id)
      .executeTakeFirstOrThrow();
    await resolveKey(created.key);
    const second = await harness.db
      .selectFrom('api_keys')
      .select('last_used_at')
      .where('id', '=', created.apiKey.id)
      .executeTakeFirstOrThrow();
    expect(second.last_used_at?.getTime()).toBe(first.last_used_at?.getTime());
    await harness.db
      .updateTable('api_keys')
      .set({ last_used_at: sql<Date>`now() - interval '2 minutes'` })
      .where('id', '=', created.apiKey.id)
      .execute();
    await resolveKey(created.key);
    const third = await harness.db
      .selectFrom('api_keys')
      .select('last_used_at')
      .where('id', '=', created.apiKey.id)
      .executeTakeFirstOrThrow();
    expect(Date.now() - third.last_used_at!.getTime()).toBeLessThan(60_000);
  });

  it('validates the name and the scopes', async () => {
    const { identity } = await harness.signUp();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: '', scopes: ['storage:write'] }, 'name'],
      [{ name: '   ', scopes: ['storage:write'] }, 'name'],
      [{ name: 'x'.repeat(65), scopes: ['storage:write'] }, 'name'],
      [{ name: 'ok', scopes: [] }, 'scopes'],
      [{ name: 'ok', scopes: ['admin'] }, 'scopes'],
      [{ name: 'ok', scopes: ['internal:credentials'] }, 'scopes'],
      [{ name: 'ok', scopes: ['storage:write', 'made:up'] }, 'scopes'],
    ];
    for (const [variables, field] of cases) {
      expect(firstError(await harness.gql(CREATE, variables, identity))).toMatchObject({
        code: 'BAD_USER_INPUT',
        field,
      });
    }
    expect(
      (
        await harness.ok<{ createApiKey: CreatedKey }>(
          CREATE,
          { name: 'x'.repeat(64), scopes: ['storage:write'] },
          identity,
        )
      ).createApiKey.apiKey.name,
    ).toHaveLength(64);
  });

  it('limits a key to the scopes of the request that creates it (an API-key caller cannot widen its own scopes)', async () => {
    const { user } = await harness.signUp();
    const viaKey = identityFor(user.id, 'user', { scopes: ['profile:write', 'storage:write'], via: 'api_key' });
    expect(firstError(await harness.gql(CREATE, { name: 'wider', scopes: ['knowledge:write'] }, viaKey)).field).toBe(
      'scopes',
    );
    expect((await harness.gql(CREATE, { name: 'same', scopes: ['storage:write'] }, viaKey)).errors).toBeUndefined();
  });

  it('lets admins give keys admin scopes, and drops them when the owner is demoted', async () => {
    const { user } = await harness.signUp();
    const admin = await harness.makeAdmin(user.id);
    const created = (
      await harness.ok<{ createApiKey: CreatedKey }>(CREATE, { name: 'ops', scopes: ['admin', 'storage:write'] }, admin)
    ).createApiKey;
    expect(await resolveKey(created.key)).toMatchObject({ roles: ['admin'], scopes: ['admin', 'storage:write'] });
    await harness.db.updateTable('users').set({ role: 'user' }).where('id', '=', user.id).execute();
    expect(await resolveKey(created.key)).toMatchObject({ roles: ['user'], scopes: ['storage:write'] });
  });

  it('an admin key without the admin scope does not resolve to the admin role', async () => {
    const { user } = await harness.signUp();
    const admin = await harness.makeAdmin(user.id);
    const created = (
      await harness.ok<{ createApiKey: CreatedKey }>(CREATE, { name: 'narrow', scopes: ['storage:write'] }, admin)
    ).createApiKey;
    expect(await resolveKey(created.key)).toMatchObject({ roles: ['user'], scopes: ['storage:write'] });
  });

  it('revoke: the key stops resolving at once; revoking again is harmless', async () => {
    const { identity } = await harness.signUp();
    const created = (
      await harness.ok<{ createApiKey: CreatedKey }>(CREATE, { name: 'tmp', scopes: ['storage:write'] }, identity)
    ).createApiKey;
    const revoke = `mutation ($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`;
    const revoked = await harness.ok<{ revokeApiKey: { revokedAt: string } }>(
      revoke,
      { id: created.apiKey.id },
      identity,
    );
    expect(revoked.revokeApiKey.revokedAt).toBeTruthy();
    expect(await resolveKey(created.key)).toBeNull();
    const again = await harness.ok<{ revokeApiKey: { revokedAt: string } }>(
      revoke,
      { id: created.apiKey.id },
      identity,
    );
    expect(again.revokeApiKey.revokedAt).toBe(revoked.revokeApiKey.revokedAt);
    const listed = await harness.ok<{ apiKeys: Array<{ revokedAt: string | null }> }>(LIST, {}, identity);
    expect(listed.apiKeys[0]?.revokedAt).toBe(revoked.revokeApiKey.revokedAt);
  });

  it('regenerate: new secret, same name and scopes, old one revoked', async () => {
    const { identity } = await harness.signUp();
    const created = (
      await harness.ok<{ createApiKey: CreatedKey }>(
        CREATE,
        { name: 'rotating', scopes: ['storage:write', 'storage:read'] },
        identity,
      )
    ).createApiKey;
    const regenerate = `mutation ($id: ID!) { regenerateApiKey(id: $id) { key apiKey { id name scopes revokedAt } } }`;
    const renewed = (
      await harness.ok<{ regenerateApiKey: CreatedKey }>(regenerate, { id: created.apiKey.id }, identity)
    ).regenerateApiKey;
    expect(renewed.key).not.toBe(created.key);
    expect(renewed.apiKey).toMatchObject({
      name: 'rotating',
      scopes: ['storage:write', 'storage:read'],
      revokedAt: null,
    });
    expect(renewed.apiKey.id).not.toBe(created.apiKey.id);
    expect(await resolveKey(created.key)).toBeNull();
    expect(await resolveKey(renewed.key)).toMatchObject({ scopes: ['storage:write', 'storage:read'] });
    // A revoked key cannot be regenerated.
    expect(firstError(await harness.gql(regenerate, { id: created.apiKey.id }, identity))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'id',
    });
  });

  it('a narrow key cannot regenerate a broader key of the same user', async () => {
    const { user, identity } = await harness.signUp();
    const broad = (
      await harness.ok<{ createApiKey: CreatedKey }>(
        CREATE,
        { name: 'broad', scopes: ['knowledge:write', 'profile:write'] },
        identity,
      )
    ).createApiKey;
    const viaNarrowKey = identityFor(user.id, 'user', { scopes: ['profile:write'], via: 'api_key' });
    const result = await harness.gql(
      `mutation ($id: ID!) { regenerateApiKey(id: $id) { key } }`,
      { id: broad.apiKey.id },
      viaNarrowKey,
    );
    expect(firstError(result).code).toBe('FORBIDDEN');
    expect(await resolveKey(broad.key)).not.toBeNull();
  });

  it("another user's key is NOT_FOUND for revoke and regenerate, and never listed", async () => {
    const alice = await harness.signUp();
    const bob = await harness.signUp();
    const bobs = (
      await harness.ok<{ createApiKey: CreatedKey }>(CREATE, { name: 'bobs', scopes: ['storage:write'] }, bob.identity)
    ).createApiKey;
    const unknownId = '00000000-0000-4000-8000-000000000000';
    for (const id of [bobs.apiKey.id, unknownId]) {
      const revoke = await harness.gql(`mutation ($id: ID!) { revokeApiKey(id: $id) { id } }`, { id }, alice.identity);
      const regenerate = await harness.gql(
        `mutation ($id: ID!) { regenerateApiKey(id: $id) { key } }`,
        { id },
        alice.identity,
      );
      for (const result of [revoke, regenerate]) {
        expect(firstError(result)).toMatchObject({ code: 'NOT_FOUND', message: 'API key not found' });
      }
    }
    expect((await harness.ok<{ apiKeys: unknown[] }>(LIST, {}, alice.identity)).apiKeys).toEqual([]);
    expect(await resolveKey(bobs.key)).toMatchObject({ userId: bob.user.id });
  });

  it('resolveCredential returns null for unknown, malformed and deactivated-owner keys', async () => {
    const { user, identity } = await harness.signUp();
    const created = (
      await harness.ok<{ createApiKey: CreatedKey }>(CREATE, { name: 'soon-dead', scopes: ['storage:write'] }, identity)
    ).createApiKey;
    expect(await resolveKey(`sg_${'A'.repeat(43)}`)).toBeNull();
    expect(await resolveKey('sg_short')).toBeNull();
    expect(await resolveKey(created.key.slice(3))).toBeNull();
    await harness.db.updateTable('users').set({ is_active: false }).where('id', '=', user.id).execute();
    expect(await resolveKey(created.key)).toBeNull();
  });

  it('caps active keys at 50 per user (revoked ones do not count)', async () => {
    const { user, identity } = await harness.signUp();
    await harness.db
      .insertInto('api_keys')
      .values(
        Array.from({ length: 50 }, (_, index) => ({
          user_id: user.id,
          name: `bulk-${index}`,
          prefix: 'bulkbulk',
          key_hash: `${user.id}-${index}`,
          scopes: ['storage:write'],
        })),
      )
      .execute();
    expect(
      firstError(await harness.gql(CREATE, { name: 'one too many', scopes: ['storage:write'] }, identity)).code,
    ).toBe('CONFLICT');
    await harness.db
      .updateTable('api_keys')
      .set({ revoked_at: sql<Date>`now()` })
      .where('name', '=', 'bulk-0')
      .where('user_id', '=', user.id)
      .execute();
    expect(
      (await harness.gql(CREATE, { name: 'fits again', scopes: ['storage:write'] }, identity)).errors,
    ).toBeUndefined();
  });

  it('key management needs a signed-in caller with profile scopes', async () => {
    expect(firstError(await harness.gql(CREATE, { name: 'x', scopes: ['storage:write'] })).code).toBe(
      'UNAUTHENTICATED',
    );
    expect(firstError(await harness.gql(LIST)).code).toBe('UNAUTHENTICATED');
    const { user } = await harness.signUp();
    const chatOnly = identityFor(user.id, 'user', { scopes: ['storage:write'], via: 'api_key' });
    expect(firstError(await harness.gql(CREATE, { name: 'x', scopes: ['storage:write'] }, chatOnly)).code).toBe(
      'FORBIDDEN',
    );
    expect(firstError(await harness.gql(LIST, {}, chatOnly)).code).toBe('FORBIDDEN');
    // The gateway's own identity is not a user.
    const gatewayWithScopes = { ...GATEWAY_IDENTITY, scopes: ['profile:write', 'storage:write'] };
    expect(
      firstError(await harness.gql(CREATE, { name: 'x', scopes: ['storage:write'] }, gatewayWithScopes)).code,
    ).toBe('UNAUTHENTICATED');
  });
});
