import { createDatabase } from '@supergraph/db';
import type * as argon2 from 'argon2';
import { loadScopeCatalog, scopesForRoles } from '@supergraph/platform';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ANONYMOUS,
  AuthHarness,
  GATEWAY_IDENTITY,
  PAYLOAD_FIELDS,
  STRONG_PASSWORD,
  firstError,
  identityFor,
} from '../test/harness.ts';

/**
 * argon2's `verify`, observed: which hashes each login checked. "Same work for
 * an unknown user" is then a fact to assert (one verification against a hash
 * of the same cost) instead of two wall-clock timings on a busy machine.
 */
const argon2Verify = vi.hoisted(() => ({ calls: [] as string[] }));
vi.mock('argon2', async (importOriginal) => {
  const original = await importOriginal<typeof argon2>();
  return {
    ...original,
    verify: (hash: string, ...rest: Parameters<typeof original.verify> extends [string, ...infer R] ? R : never) => {
      argon2Verify.calls.push(hash);
      return original.verify(hash, ...rest);
    },
  };
});

const REGISTER = `mutation ($input: RegisterInput!) { register(input: $input) { id username email role tier createdAt preferences } }`;
const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { ${PAYLOAD_FIELDS} } }`;

let harness: AuthHarness;

beforeAll(async () => {
  harness = await AuthHarness.start({ bootstrapAdmin: 'Root_Admin' });
});

afterAll(async () => {
  await harness?.stop();
});

function registerInput(overrides: Partial<{ username: string; email: string; password: string }> = {}) {
  const username = overrides.username ?? harness.uniqueName('reg');
  return {
    input: { username, email: `${username.toLowerCase()}@example.com`, password: STRONG_PASSWORD, ...overrides },
  };
}

describe('the internal token gate', () => {
  it('answers 401 without an internal token, for queries and for _service { sdl }', async () => {
    for (const query of ['{ me { id } }', '{ _service { sdl } }', 'mutation { logout }']) {
      const result = await harness.gql(query, {}, null);
      expect(result.status).toBe(401);
      expect(firstError(result).code).toBe('UNAUTHENTICATED');
      expect(result.data).toBeUndefined();
    }
  });

  it('answers 401 for a token meant for another subgraph, a garbage token, or one signed by another key', async () => {
    const otherAudience = await harness.internalToken(ANONYMOUS, 'knowledge');
    expect((await harness.gql('{ _service { sdl } }', {}, null, { token: otherAudience })).status).toBe(401);
    expect((await harness.gql('{ _service { sdl } }', {}, null, { token: 'not-a-jwt' })).status).toBe(401);
    const { generateInternalKeyPair, importInternalSigningKey, signInternalToken } =
      await import('@supergraph/platform');
    const stranger = await importInternalSigningKey(generateInternalKeyPair().privateKeyPem);
    const forged = await signInternalToken(GATEWAY_IDENTITY, 'auth', stranger);
    expect((await harness.gql('{ _service { sdl } }', {}, null, { token: forged })).status).toBe(401);
  });

  it('serves the SDL to the gateway, including the @inaccessible internal API', async () => {
    const data = await harness.ok<{ _service: { sdl: string } }>('{ _service { sdl } }', {}, GATEWAY_IDENTITY);
    expect(data._service.sdl).toContain('resolveCredential');
    expect(data._service.sdl).toContain('@inaccessible');
  });
});

describe('database role', () => {
  it.skipIf(!process.env['DATABASE_URL'])(
    'runs as supergraph_auth on real PostgreSQL, owning its tables (skipped without DATABASE_URL: PGlite has no roles)',
    async () => {
      const probe = createDatabase(harness.target, { schema: 'auth', poolMax: 1 });
      try {
        const { rows } = await sql<{ role: string; owner: string }>`
        select current_user as role, (select tableowner from pg_tables where schemaname = 'auth' and tablename = 'users') as owner
      `.execute(probe.db);
        expect(rows[0]).toEqual({ role: 'supergraph_auth', owner: 'supergraph_auth' });
      } finally {
        await probe.close();
      }
    },
  );
});

describe('register', () => {
  it('creates a user with role user and tier free and hashes the password with argon2id', async () => {
    const input = registerInput({ username: 'Alice_01', email: '  Alice.01@Example.COM ' });
    const data = await harness.ok<{ register: Record<string, unknown> }>(REGISTER, input);
    expect(data.register).toMatchObject({ username: 'Alice_01', role: 'USER', tier: 'FREE' });
    // Anonymous callers do not see the private fields, not even of the account they just created.
    expect(data.register['email']).toBeNull();
    expect(data.register['preferences']).toBeNull();
    const row = await harness.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', 'Alice_01')
      .executeTakeFirstOrThrow();
    expect(row.email).toBe('alice.01@example.com');
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(row.password_hash).not.toContain(STRONG_PASSWORD);
    expect(row.is_active).toBe(true);
  });

  it.each([
    ['too short', 'ab'],
    ['too long', 'a'.repeat(33)],
    ['a space', 'bad name'],
    ['a dot', 'bad.name'],
    ['non-ASCII letters', 'jürgen'],
    ['an at sign', 'a@b'],
    ['empty', ''],
  ])('rejects a username that is %s', async (_case, username) => {
    const result = await harness.gql(
      REGISTER,
      registerInput({ username, email: `${harness.uniqueName()}@example.com` }),
    );
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.username' });
  });

  it('accepts usernames at the length limits with _ and -', async () => {
    for (const username of ['a-_', `Z${'9'.repeat(30)}_`]) {
      const result = await harness.gql(
        REGISTER,
        registerInput({ username, email: `${harness.uniqueName()}@example.com` }),
      );
      expect(result.errors).toBeUndefined();
    }
  });

  it.each([
    ['no at sign', 'user.example.com'],
    ['no domain dot', 'user@localhost'],
    ['a space', 'us er@example.com'],
    ['two at signs', 'a@b@example.com'],
    ['an empty local part', '@example.com'],
    ['over 254 characters', `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`],
  ])('rejects an email with %s', async (_case, email) => {
    const result = await harness.gql(REGISTER, registerInput({ email }));
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.email' });
  });

  it.each([
    ['shorter than 12 characters', 'Short1Pass'],
    ['without an upper-case letter', 'alllowercase123'],
    ['without a lower-case letter', 'ALLUPPERCASE123'],
    ['without a digit', 'NoDigitsAtAllHere'],
    ['over 1024 bytes', `Aa1${'x'.repeat(1022)}`],
    ['over 1024 bytes in multi-byte characters (fewer than 1024 characters)', `Aa1${'é'.repeat(600)}`],
  ])('rejects a password %s', async (_case, password) => {
    const result = await harness.gql(REGISTER, registerInput({ password }));
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
  });

  it('accepts a password of exactly 1024 bytes', async () => {
    const result = await harness.gql(REGISTER, registerInput({ password: `Aa1${'x'.repeat(1021)}` }));
    expect(result.errors).toBeUndefined();
  });

  it('refuses a duplicate username (any case) or email with one message', async () => {
    const taken = await harness.register(harness.uniqueName('Dup'));
    const sameName = await harness.gql(
      REGISTER,
      registerInput({ username: taken.username.toUpperCase(), email: 'fresh-1@example.com' }),
    );
    const sameEmail = await harness.gql(REGISTER, registerInput({ email: taken.email.toUpperCase() }));
    for (const result of [sameName, sameEmail]) {
      expect(firstError(result)).toMatchObject({
        code: 'BAD_USER_INPUT',
        message: 'username or email already registered',
      });
    }
  });

  it('lets exactly one of several concurrent registrations of one username win (unique-violation race)', async () => {
    const username = harness.uniqueName('race');
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, index) =>
        harness.gql(REGISTER, registerInput({ username, email: `race-${index}-${username}@example.com` })),
      ),
    );
    const winners = results.filter((result) => !result.errors);
    const losers = results.filter((result) => result.errors);
    expect(winners).toHaveLength(1);
    for (const loser of losers) {
      expect(firstError(loser)).toMatchObject({
        code: 'BAD_USER_INPUT',
        message: 'username or email already registered',
      });
    }
    const count = await harness.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('username', '=', username)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('promotes the bootstrap admin (AUTH_BOOTSTRAP_ADMIN, any case) while no admin exists, and nobody after', async () => {
    const root = await harness.ok<{ register: { role: string } }>(REGISTER, registerInput({ username: 'root_admin' }));
    expect(root.register.role).toBe('ADMIN');
    const next = await harness.register(harness.uniqueName('after'));
    expect(next.role).toBe('USER');
  });
});

describe('login', () => {
  it('issues an EdDSA access token with the documented header and claims, a refresh token and a session token', async () => {
    const user = await harness.register(harness.uniqueName('Login'));
    const before = Math.floor(Date.now() / 1000);
    const payload = await harness.login(user.username.toUpperCase());
    expect(payload.user).toMatchObject({
      id: user.id,
      username: user.username,
      email: user.email,
      role: 'USER',
      tier: 'FREE',
    });

    const header = decodeProtectedHeader(payload.accessToken);
    expect(header).toEqual({ alg: 'EdDSA', kid: harness.config.signingKeys[0]?.kid, typ: 'at+jwt' });
    const claims = decodeJwt(payload.accessToken);
    expect(claims).toMatchObject({
      iss: 'supergraph-auth',
      aud: 'supergraph',
      sub: user.id,
      roles: ['user'],
      tier: 'free',
    });
    // Every scope the composed catalog gives the role (each subgraph declares its own), auth's first.
    expect(claims.scope).toBe(scopesForRoles(loadScopeCatalog(), ['user']).join(' '));
    expect(String(claims.scope)).toMatch(
      /^profile:read profile:write knowledge:read knowledge:write storage:read storage:write\b/,
    );
    expect(typeof claims.jti).toBe('string');
    expect(typeof claims['sid']).toBe('string');
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(claims.iat!).toBeGreaterThanOrEqual(before - 1);
    expect(new Date(payload.expiresAt).getTime()).toBe(claims.exp! * 1000);

    expect(decodeProtectedHeader(payload.refreshToken)).toMatchObject({ alg: 'EdDSA', typ: 'refresh+jwt' });
    const refresh = decodeJwt(payload.refreshToken);
    expect(refresh).toMatchObject({ sub: user.id, sid: claims['sid'] });
    expect(typeof refresh['fam']).toBe('string');
    expect(refresh.exp! * 1000).toBe(Math.floor(new Date(payload.sessionExpiresAt).getTime() / 1000) * 1000);
    const sevenDays = 7 * 86_400_000;
    expect(Math.abs(new Date(payload.sessionExpiresAt).getTime() - Date.now() - sevenDays)).toBeLessThan(60_000);

    expect(payload.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const session = await harness.db
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', claims['sid'] as string)
      .executeTakeFirstOrThrow();
    expect(session.token_hash).not.toBe(payload.sessionToken);
    expect(session.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const stored = await harness.db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('session_id', '=', session.id)
      .execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.family_id).toBe(refresh['fam']);
    expect(stored[0]?.token_hash).not.toBe(refresh.jti);
  });

  it('logs in by email, case-insensitively', async () => {
    const user = await harness.register(harness.uniqueName('Mail'));
    const payload = await harness.login(user.email.toUpperCase());
    expect(payload.user.id).toBe(user.id);
  });

  it('answers "invalid credentials" alike for a wrong password and an unknown user, after the same argon2 work', async () => {
    const user = await harness.register(harness.uniqueName('wrong'));
    const [stored] = await harness.db.selectFrom('users').select('password_hash').where('id', '=', user.id).execute();
    const costOf = (hash: string) => hash.split('$').slice(1, 4).join('$'); // argon2id$v=19$m=…,t=…,p=…
    const attempt = async (usernameOrEmail: string) => {
      argon2Verify.calls.length = 0;
      const result = await harness.gql(LOGIN, { input: { usernameOrEmail, password: 'Wrong-password-123' } });
      return { result, verified: [...argon2Verify.calls] };
    };
    const wrong = await attempt(user.username);
    const unknown = await attempt('nobody-here-either');
    const unknownEmail = await attempt('nobody@example.com');
    for (const { result } of [wrong, unknown, unknownEmail]) {
      expect(firstError(result)).toMatchObject({ code: 'UNAUTHENTICATED', message: 'invalid credentials' });
      expect(result.data).toBeNull();
    }
    // Each path runs exactly one argon2id verification, all at the stored hash's cost: nothing to time.
    expect(wrong.verified).toEqual([stored!.password_hash]);
    for (const { verified } of [unknown, unknownEmail]) {
      expect(verified).toHaveLength(1);
      expect(costOf(verified[0]!)).toBe(costOf(stored!.password_hash));
    }
  });

  it('refuses a deactivated user with the same message, even with the right password', async () => {
    const user = await harness.register(harness.uniqueName('inactive'));
    await harness.db.updateTable('users').set({ is_active: false }).where('id', '=', user.id).execute();
    const result = await harness.gql(LOGIN, { input: { usernameOrEmail: user.username, password: STRONG_PASSWORD } });
    expect(firstError(result)).toMatchObject({ code: 'UNAUTHENTICATED', message: 'invalid credentials' });
  });

  it('rejects a password over 1024 bytes before hashing', async () => {
    const result = await harness.gql(LOGIN, { input: { usernameOrEmail: 'anyone', password: 'x'.repeat(1025) } });
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
  });
});

describe('me', () => {
  it('is null for anonymous callers and for non-user identities', async () => {
    expect((await harness.ok('{ me { id } }', {}, ANONYMOUS))['me']).toBeNull();
    expect((await harness.ok('{ me { id } }', {}, GATEWAY_IDENTITY))['me']).toBeNull();
  });

  it('returns the caller with private fields', async () => {
    const { user, identity } = await harness.signUp();
    const data = await harness.ok('{ me { id username email preferences isActive } }', {}, identity);
    expect(data['me']).toEqual({
      id: user.id,
      username: user.username,
      email: user.email,
      preferences: {},
      isActive: true,
    });
  });

  it('is null for a deactivated user still holding a valid access token', async () => {
    const { user } = await harness.signUp();
    await harness.db.updateTable('users').set({ is_active: false }).where('id', '=', user.id).execute();
    expect((await harness.ok('{ me { id } }', {}, identityFor(user.id)))['me']).toBeNull();
  });
});
