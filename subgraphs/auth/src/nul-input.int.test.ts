import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthHarness, STRONG_PASSWORD, firstError, type SignedUpUser } from '../test/harness.ts';

/**
 * Finding 9 of the security run: a NUL character in a login, an API key name
 * or preferences reached PostgreSQL (which stores no NUL in text or jsonb)
 * and came back as a masked INTERNAL_SERVER_ERROR. Every subgraph now refuses
 * it before any resolver runs (kit's `rejectNulArguments`).
 */

const LOGIN = 'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }';
const CREATE_KEY = 'mutation ($name: String!) { createApiKey(name: $name, scopes: ["profile:read"]) { key } }';
const PREFERENCES = 'mutation ($preferences: JSON!) { updatePreferences(preferences: $preferences) { preferences } }';

let harness: AuthHarness;
let owner: SignedUpUser;

beforeAll(async () => {
  harness = await AuthHarness.start();
  owner = await harness.signUp();
});

afterAll(async () => {
  await harness?.stop();
});

describe('NUL characters in arguments answer BAD_USER_INPUT naming the argument', () => {
  it.each([
    ['usernameOrEmail', { usernameOrEmail: 'ali\0ce', password: STRONG_PASSWORD }],
    ['password', { usernameOrEmail: 'alice', password: `${STRONG_PASSWORD}\0` }],
    ['userAgent', { usernameOrEmail: 'alice', password: STRONG_PASSWORD, userAgent: 'curl\0' }],
  ])('login: NUL in %s', async (field, input) => {
    const result = await harness.gql(LOGIN, { input });
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', field: `input.${field}` });
  });

  it('createApiKey: NUL in the name; no key is created', async () => {
    const result = await harness.gql(CREATE_KEY, { name: 'ci\0key' }, owner.identity);
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    const keys = await harness.db.selectFrom('api_keys').select('id').where('user_id', '=', owner.user.id).execute();
    expect(keys).toHaveLength(0);
  });

  it('createApiKey: other control characters have no place in a name either', async () => {
    for (const name of ['esc\u001bkey', 'two\nlines', 'del\u007f']) {
      const result = await harness.gql(CREATE_KEY, { name }, owner.identity);
      expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    }
  });

  it.each([
    ['a string value', { theme: 'da\0rk' }, 'preferences.theme'],
    ['a nested list item', { ui: { panels: ['left', 'ri\0ght'] } }, 'preferences.ui.panels[1]'],
    ['an object key', { ui: { 'we\0ird': true } }, 'preferences.ui'],
  ])('updatePreferences: NUL in %s; the stored preferences stay', async (_what, preferences, field) => {
    await harness.ok(PREFERENCES, { preferences: { theme: 'light' } }, owner.identity);
    const result = await harness.gql(PREFERENCES, { preferences }, owner.identity);
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    const stored = await harness.ok<{ updatePreferences: { preferences: unknown } }>(
      PREFERENCES,
      { preferences: { theme: 'light', note: 'tabs\tand\nnewlines are fine' } },
      owner.identity,
    );
    expect(stored.updatePreferences.preferences).toEqual({ theme: 'light', note: 'tabs\tand\nnewlines are fine' });
  });

  it('a NUL in an inline literal is refused the same way', async () => {
    const result = await harness.gql(
      'mutation { login(input: { usernameOrEmail: "a\\u0000b", password: "x" }) { accessToken } }',
    );
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.usernameOrEmail' });
  });
});
