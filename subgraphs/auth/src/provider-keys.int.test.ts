import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { ANONYMOUS, AuthHarness, firstError, identityFor } from '../test/harness.ts';

const SET = `mutation ($provider: String!, $key: String!) {
  setProviderKey(provider: $provider, key: $key) { provider last4 createdAt updatedAt }
}`;
const REMOVE = `mutation ($provider: String!) { removeProviderKey(provider: $provider) }`;
const LIST = `{ providerKeys { provider last4 createdAt updatedAt } }`;

interface ProviderKeyShape {
  provider: string;
  last4: string;
  createdAt: string;
  updatedAt: string;
}

let harness: AuthHarness;
let consoleSpies: MockInstance[] = [];
let logged: string[] = [];

beforeAll(async () => {
  harness = await AuthHarness.start();
});

afterAll(async () => {
  await harness?.stop();
});

// Every line the server (same process) prints during a test: no provider key may be among them.
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

function uniqueKey(): string {
  return `sk-live-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}Zq9`;
}

describe('provider keys', () => {
  it('stores a key encrypted, lists only last4, replaces it in place and removes it', async () => {
    const { user, identity } = await harness.signUp();
    const key = uniqueKey();
    const set = await harness.ok<{ setProviderKey: ProviderKeyShape }>(SET, { provider: 'openai', key }, identity);
    expect(set.setProviderKey).toMatchObject({ provider: 'openai', last4: key.slice(-4) });
    expect(JSON.stringify(set)).not.toContain(key);

    const row = await harness.db
      .selectFrom('provider_keys')
      .selectAll()
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ provider: 'openai', key_version: 1, last4: key.slice(-4) });
    expect(Buffer.from(row.iv)).toHaveLength(12);
    expect(Buffer.from(row.auth_tag)).toHaveLength(16);
    const stored = [row.ciphertext, row.iv, row.auth_tag].map((bytes) => Buffer.from(bytes));
    for (const bytes of stored) {
      expect(bytes.toString('utf8')).not.toContain(key.slice(0, 12));
      expect(bytes.toString('latin1')).not.toContain(key.slice(0, 12));
    }
    expect(JSON.stringify(row)).not.toContain(key);

    const replacement = uniqueKey();
    const replaced = await harness.ok<{ setProviderKey: ProviderKeyShape }>(
      SET,
      { provider: 'openai', key: replacement },
      identity,
    );
    expect(replaced.setProviderKey.last4).toBe(replacement.slice(-4));
    expect(replaced.setProviderKey.createdAt).toBe(set.setProviderKey.createdAt);
    expect(new Date(replaced.setProviderKey.updatedAt).getTime()).toBeGreaterThanOrEqual(
      new Date(set.setProviderKey.updatedAt).getTime(),
    );
    const rewritten = await harness.db
      .selectFrom('provider_keys')
      .selectAll()
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(Buffer.from(rewritten.iv).equals(Buffer.from(row.iv))).toBe(false);

    await harness.ok(SET, { provider: 'anthropic', key: uniqueKey() }, identity);
    const listed = await harness.ok<{ providerKeys: ProviderKeyShape[] }>(LIST, {}, identity);
    expect(listed.providerKeys.map((entry) => entry.provider)).toEqual(['anthropic', 'openai']);
    expect(JSON.stringify(listed)).not.toContain(replacement);

    expect(await harness.ok(REMOVE, { provider: 'openai' }, identity)).toEqual({ removeProviderKey: true });
    expect(await harness.ok(REMOVE, { provider: 'openai' }, identity)).toEqual({ removeProviderKey: false });
    const after = await harness.ok<{ providerKeys: ProviderKeyShape[] }>(LIST, {}, identity);
    expect(after.providerKeys.map((entry) => entry.provider)).toEqual(['anthropic']);

    expect(logged.join('\n')).not.toContain(key);
    expect(logged.join('\n')).not.toContain(replacement);
  });

  it("keeps users apart: nobody lists or removes another user's key", async () => {
    const alice = await harness.signUp();
    const bob = await harness.signUp();
    await harness.ok(SET, { provider: 'openai', key: uniqueKey() }, alice.identity);
    expect(await harness.ok(LIST, {}, bob.identity)).toEqual({ providerKeys: [] });
    expect(await harness.ok(REMOVE, { provider: 'openai' }, bob.identity)).toEqual({ removeProviderKey: false });
    const listed = await harness.ok<{ providerKeys: ProviderKeyShape[] }>(LIST, {}, alice.identity);
    expect(listed.providerKeys).toHaveLength(1);
  });

  it.each([
    ['a provider with upper case', { provider: 'OpenAI' }, 'provider'],
    ['an empty provider', { provider: '' }, 'provider'],
    ['a provider starting with a digit', { provider: '1openai' }, 'provider'],
    ['a 33-character provider', { provider: `a${'b'.repeat(32)}` }, 'provider'],
    ['a 7-character key', { key: 'sk-1234' }, 'key'],
    ['a 513-character key', { key: 'k'.repeat(513) }, 'key'],
    ['a key with a space', { key: 'sk-live 12345678' }, 'key'],
    ['a key with a newline', { key: 'sk-live-12345678\n' }, 'key'],
    ['a key with a tab', { key: 'sk-live-\t12345678' }, 'key'],
    ['a key with non-ASCII', { key: 'sk-live-12345678é' }, 'key'],
    ['a key with a control character', { key: 'sk-live-\u0007-12345678' }, 'key'],
    ['a key with NUL', { key: 'sk-live-\u0000-12345678' }, 'key'],
  ])('refuses %s with BAD_USER_INPUT naming the field, without echoing the key', async (_label, change, field) => {
    const { identity } = await harness.signUp();
    const variables = { provider: 'openai', key: 'sk-valid-12345678', ...change };
    const result = await harness.gql(SET, variables, identity);
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(JSON.stringify(result)).not.toContain(variables.key);
    expect(await harness.ok(LIST, {}, identity)).toEqual({ providerKeys: [] });
  });

  it('accepts the edges: an 8- and a 512-character key, a 32-character provider with digits and dashes', async () => {
    const { identity } = await harness.signUp();
    await harness.ok(SET, { provider: 'a1-b2', key: '!#$%&()*' }, identity);
    await harness.ok(SET, { provider: `a${'-9'.repeat(15)}b`, key: '~'.repeat(512) }, identity);
    const listed = await harness.ok<{ providerKeys: ProviderKeyShape[] }>(LIST, {}, identity);
    expect(listed.providerKeys).toHaveLength(2);
  });

  it('refuses bad provider names on removal too', async () => {
    const { identity } = await harness.signUp();
    expect(firstError(await harness.gql(REMOVE, { provider: 'Open AI' }, identity))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'provider',
    });
  });

  it('needs a signed-in user with profile:read / profile:write', async () => {
    const { user } = await harness.signUp();
    for (const [query, variables] of [
      [LIST, {}],
      [SET, { provider: 'openai', key: uniqueKey() }],
      [REMOVE, { provider: 'openai' }],
    ] as const) {
      expect(firstError(await harness.gql(query, variables, ANONYMOUS)).code).toBe('UNAUTHENTICATED');
      const narrow = identityFor(user.id, 'user', { scopes: ['knowledge:read'], via: 'api_key' });
      expect(firstError(await harness.gql(query, variables, narrow)).code).toBe('FORBIDDEN');
    }
    const readOnly = identityFor(user.id, 'user', { scopes: ['profile:read'], via: 'api_key' });
    expect(await harness.ok(LIST, {}, readOnly)).toEqual({ providerKeys: [] });
    expect(firstError(await harness.gql(SET, { provider: 'openai', key: uniqueKey() }, readOnly)).code).toBe(
      'FORBIDDEN',
    );
  });

  it('goes with the user: deleting the user deletes their keys (the foreign key cascades)', async () => {
    const { user, identity } = await harness.signUp();
    await harness.ok(SET, { provider: 'openai', key: uniqueKey() }, identity);
    await harness.db.deleteFrom('users').where('id', '=', user.id).execute();
    const left = await harness.db
      .selectFrom('provider_keys')
      .select('provider')
      .where('user_id', '=', user.id)
      .execute();
    expect(left).toEqual([]);
  });

  it("hides the user's own e-mail from a caller without profile:read (a knowledge-only key)", async () => {
    const { user } = await harness.signUp();
    const narrow = identityFor(user.id, 'user', { scopes: ['knowledge:read'], via: 'api_key' });
    expect(await harness.ok(`{ me { id email } }`, {}, narrow)).toEqual({ me: { id: user.id, email: null } });
    const full = identityFor(user.id);
    expect(await harness.ok(`{ me { email } }`, {}, full)).toEqual({ me: { email: user.email } });
  });
});
