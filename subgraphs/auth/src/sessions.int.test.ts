import { loadScopeCatalog, scopesForRoles } from '@supergraph/platform';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import {
  AuthHarness,
  GATEWAY_IDENTITY,
  PAYLOAD_FIELDS,
  STRONG_PASSWORD,
  firstError,
  identityFor,
  type LoginPayload,
} from '../test/harness.ts';

const REFRESH = `mutation ($token: String!) { refresh(refreshToken: $token) { ${PAYLOAD_FIELDS} } }`;
const RESOLVE_SESSION = `query ($token: String) { resolveCredential(sessionToken: $token) { userId roles scopes tier sessionId } }`;

let harness: AuthHarness;

beforeAll(async () => {
  harness = await AuthHarness.start();
});

afterAll(async () => {
  await harness?.stop();
});

async function refresh(token: string) {
  return harness.gql<{ refresh: LoginPayload }>(REFRESH, { token });
}

async function resolveSession(token: string) {
  const data = await harness.ok<{ resolveCredential: Record<string, unknown> | null }>(
    RESOLVE_SESSION,
    { token },
    GATEWAY_IDENTITY,
  );
  return data.resolveCredential;
}

describe('refresh', () => {
  it('rotates: the new pair works, the family stays, the session token is replaced', async () => {
    const { user, payload } = await harness.signUp();
    const result = await refresh(payload.refreshToken);
    expect(result.errors).toBeUndefined();
    const next = result.data!.refresh;
    expect(next.user).toMatchObject({ id: user.id, email: user.email });
    expect(next.refreshToken).not.toBe(payload.refreshToken);
    expect(next.accessToken).not.toBe(payload.accessToken);
    expect(decodeJwt(next.refreshToken)['fam']).toBe(decodeJwt(payload.refreshToken)['fam']);
    expect(decodeJwt(next.accessToken)['sid']).toBe(decodeJwt(payload.accessToken)['sid']);
    expect(next.sessionExpiresAt).toBe(payload.sessionExpiresAt);
    expect(await resolveSession(payload.sessionToken)).toBeNull();
    expect(await resolveSession(next.sessionToken)).toMatchObject({ userId: user.id });

    const again = await refresh(next.refreshToken);
    expect(again.errors).toBeUndefined();
  });

  it('revokes the whole family and its session when a spent refresh token is replayed', async () => {
    const { payload } = await harness.signUp();
    const sessionId = decodeJwt(payload.accessToken)['sid'] as string;
    const first = (await refresh(payload.refreshToken)).data!.refresh;

    const replay = await refresh(payload.refreshToken);
    expect(firstError(replay)).toMatchObject({ code: 'UNAUTHENTICATED', message: 'invalid refresh token' });
    // The legitimate newest token died with its family.
    expect(firstError(await refresh(first.refreshToken)).code).toBe('UNAUTHENTICATED');
    expect(await resolveSession(first.sessionToken)).toBeNull();
    const session = await harness.db
      .selectFrom('sessions')
      .select('revoked_at')
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    expect(session.revoked_at).toBeInstanceOf(Date);
    const live = await harness.db
      .selectFrom('refresh_tokens')
      .select('id')
      .where('session_id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);
  });

  it('lets only one of two concurrent refreshes with the same token win, and then kills the family', async () => {
    const { payload } = await harness.signUp();
    const results = await Promise.all([refresh(payload.refreshToken), refresh(payload.refreshToken)]);
    // Exactly one: both failing would pass an "at most one" check and lock the user out for no reason.
    const winners = results.filter((result) => !result.errors);
    const losers = results.filter((result) => result.errors);
    expect(winners).toHaveLength(1);
    expect(losers.map(firstError)).toEqual([
      { code: 'UNAUTHENTICATED', field: undefined, message: 'invalid refresh token' },
    ]);
    // The loser looked like a replay: the family, the winner's new token with it, is revoked.
    expect(firstError(await refresh(winners[0]!.data!.refresh.refreshToken)).code).toBe('UNAUTHENTICATED');
  });

  it('refuses tampered tokens, access tokens and garbage', async () => {
    const { payload } = await harness.signUp();
    const [header, body, signature] = payload.refreshToken.split('.');
    const tampered = `${header}.${body}.${signature?.startsWith('A') ? 'B' : 'A'}${signature?.slice(1)}`;
    for (const token of [tampered, payload.accessToken, 'garbage', '']) {
      expect(firstError(await refresh(token))).toMatchObject({
        code: 'UNAUTHENTICATED',
        message: 'invalid refresh token',
      });
    }
    // The genuine token still works: a forgery does not revoke anything.
    expect((await refresh(payload.refreshToken)).errors).toBeUndefined();
  });

  it('fails after logout, and for a deactivated user', async () => {
    const { payload, identity } = await harness.signUp();
    expect((await harness.ok('mutation { logout }', {}, identity))['logout']).toBe(true);
    expect(firstError(await refresh(payload.refreshToken)).code).toBe('UNAUTHENTICATED');
    expect(await resolveSession(payload.sessionToken)).toBeNull();
    // Logging out twice is harmless.
    expect((await harness.ok('mutation { logout }', {}, identity))['logout']).toBe(false);

    const other = await harness.signUp();
    await harness.db.updateTable('users').set({ is_active: false }).where('id', '=', other.user.id).execute();
    expect(firstError(await refresh(other.payload.refreshToken)).code).toBe('UNAUTHENTICATED');
  });
});

describe('sessions', () => {
  it('resolveCredential maps a session token to its user and updates last_seen_at', async () => {
    const { user, payload } = await harness.signUp();
    const sessionId = decodeJwt(payload.accessToken)['sid'] as string;
    await harness.db
      .updateTable('sessions')
      .set({ last_seen_at: sql<Date>`now() - interval '1 hour'` })
      .where('id', '=', sessionId)
      .execute();
    const resolved = await resolveSession(payload.sessionToken);
    expect(resolved).toEqual({
      userId: user.id,
      roles: ['user'],
      scopes: scopesForRoles(loadScopeCatalog(), ['user']),
      tier: 'free',
      sessionId,
    });
    const row = await harness.db
      .selectFrom('sessions')
      .select('last_seen_at')
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    expect(Date.now() - row.last_seen_at.getTime()).toBeLessThan(60_000);
  });

  it('resolveCredential returns null for unknown, malformed, expired and revoked sessions', async () => {
    const { payload } = await harness.signUp();
    expect(await resolveSession('A'.repeat(43))).toBeNull();
    expect(await resolveSession('short')).toBeNull();
    const sessionId = decodeJwt(payload.accessToken)['sid'] as string;
    await harness.db
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', sessionId)
      .execute();
    expect(await resolveSession(payload.sessionToken)).toBeNull();
  });

  it('resolveCredential is for the gateway only: users get FORBIDDEN, anonymous UNAUTHENTICATED, and it wants exactly one credential', async () => {
    const { payload, identity } = await harness.signUp();
    expect(firstError(await harness.gql(RESOLVE_SESSION, { token: payload.sessionToken }, identity)).code).toBe(
      'FORBIDDEN',
    );
    expect(firstError(await harness.gql(RESOLVE_SESSION, { token: payload.sessionToken })).code).toBe(
      'UNAUTHENTICATED',
    );
    const both = await harness.gql(
      `query ($k: String, $s: String) { resolveCredential(apiKey: $k, sessionToken: $s) { userId } }`,
      { k: 'sg_x', s: payload.sessionToken },
      GATEWAY_IDENTITY,
    );
    expect(firstError(both)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'apiKey' });
    const neither = await harness.gql(`{ resolveCredential { userId } }`, {}, GATEWAY_IDENTITY);
    expect(firstError(neither).code).toBe('BAD_USER_INPUT');
  });

  it('logoutEverywhere revokes every session and refresh family of the caller, and only theirs', async () => {
    const { user, payload, identity } = await harness.signUp();
    const second = await harness.login(user.username);
    const bystander = await harness.signUp();
    const data = await harness.ok('mutation { logoutEverywhere }', {}, identity);
    expect(data['logoutEverywhere']).toBe(2);
    for (const login of [payload, second]) {
      expect(await resolveSession(login.sessionToken)).toBeNull();
      expect(firstError(await refresh(login.refreshToken)).code).toBe('UNAUTHENTICATED');
    }
    expect(await resolveSession(bystander.payload.sessionToken)).toMatchObject({ userId: bystander.user.id });
  });

  it('changePassword validates, then revokes every other session but keeps the current one', async () => {
    const { user, payload, identity } = await harness.signUp();
    const other = await harness.login(user.username);
    const change = 'mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
    const newPassword = 'Another-Strong-Pass-7';

    expect(firstError(await harness.gql(change, { c: 'Wrong-Password-1', n: newPassword }, identity))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'currentPassword',
    });
    expect(firstError(await harness.gql(change, { c: STRONG_PASSWORD, n: 'weak' }, identity))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'newPassword',
    });
    expect(
      firstError(await harness.gql(change, { c: STRONG_PASSWORD, n: `Aa1${'x'.repeat(1022)}` }, identity)),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'newPassword',
    });
    expect(firstError(await harness.gql(change, { c: STRONG_PASSWORD, n: STRONG_PASSWORD }, identity)).field).toBe(
      'newPassword',
    );
    // Nothing was revoked by the failed attempts.
    expect(await resolveSession(other.sessionToken)).not.toBeNull();

    expect((await harness.ok(change, { c: STRONG_PASSWORD, n: newPassword }, identity))['changePassword']).toBe(true);
    expect(await resolveSession(payload.sessionToken)).not.toBeNull();
    expect(await resolveSession(other.sessionToken)).toBeNull();
    expect(firstError(await refresh(other.refreshToken)).code).toBe('UNAUTHENTICATED');
    expect((await refresh(payload.refreshToken)).errors).toBeUndefined();

    const oldLogin = await harness.gql(
      `mutation { login(input: { usernameOrEmail: "${user.username}", password: "${STRONG_PASSWORD}" }) { accessToken } }`,
    );
    expect(firstError(oldLogin).message).toBe('invalid credentials');
    await harness.login(user.username, newPassword);
  });

  it("lists only the caller's live sessions and marks the current one", async () => {
    const { user, identity } = await harness.signUp();
    await harness.login(user.username);
    await harness.signUp();
    const data = await harness.ok<{ sessions: Array<{ id: string; current: boolean }> }>(
      '{ sessions { id current createdAt lastSeenAt expiresAt userAgent } }',
      {},
      identity,
    );
    expect(data.sessions).toHaveLength(2);
    expect(data.sessions.filter((session) => session.current).map((session) => session.id)).toEqual([
      identity.sessionId,
    ]);
  });

  it("revokeSession on another user's session is NOT_FOUND and leaves it alive", async () => {
    const alice = await harness.signUp();
    const bob = await harness.signUp();
    const revoke = 'mutation ($id: ID!) { revokeSession(id: $id) }';
    const result = await harness.gql(revoke, { id: bob.identity.sessionId }, alice.identity);
    expect(firstError(result).code).toBe('NOT_FOUND');
    expect(await resolveSession(bob.payload.sessionToken)).not.toBeNull();
    expect(firstError(await harness.gql(revoke, { id: 'not-a-uuid' }, alice.identity))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'id',
    });
    expect((await harness.ok(revoke, { id: bob.identity.sessionId }, bob.identity))['revokeSession']).toBe(true);
    expect(await resolveSession(bob.payload.sessionToken)).toBeNull();
  });

  it("logout with another user's session id in the identity revokes nothing of theirs", async () => {
    const alice = await harness.signUp();
    const bob = await harness.signUp();
    const forged = identityFor(alice.user.id, 'user', { sessionId: bob.identity.sessionId! });
    expect((await harness.ok('mutation { logout }', {}, forged))['logout']).toBe(false);
    expect(await resolveSession(bob.payload.sessionToken)).not.toBeNull();
  });

  it('logout, logoutEverywhere and changePassword need a signed-in caller', async () => {
    for (const query of [
      'mutation { logout }',
      'mutation { logoutEverywhere }',
      'mutation { changePassword(currentPassword: "a", newPassword: "b") }',
      '{ sessions { id } }',
    ]) {
      expect(firstError(await harness.gql(query)).code).toBe('UNAUTHENTICATED');
    }
  });
});
