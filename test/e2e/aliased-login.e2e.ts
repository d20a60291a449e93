import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstCode, LOGIN, newUser, postGraphQL, REGISTER, startStack, type Stack } from './harness.ts';

/**
 * Aliases and JSON batches put many `login` calls in one HTTP request; auth's
 * per-IP limiter wraps the resolver, so it counts each call, not each request.
 * Every test sends from its own client address (the gateway trusts one proxy
 * hop here), so the tests do not share a counter.
 */

const LOGIN_LIMIT = 10;
const COPIES = 12;

let stack: Stack;
let user: { username: string; password: string };

beforeAll(async () => {
  stack = await startStack({
    supergraph: 'probe',
    authRateLimits: { overrides: { 'Mutation.login': { max: LOGIN_LIMIT } } },
    gateway: { trustedProxyHops: 1, operationLimits: { maxBatchSize: COPIES } },
  });
  const input = newUser('aliased');
  const registered = await stack.gql(REGISTER, { input }, from('198.51.100.1'));
  expect(registered.body.errors).toBeUndefined();
  user = { username: input.username, password: input.password };
});

afterAll(async () => {
  await stack?.stop();
});

const from = (address: string) => ({ 'x-forwarded-for': address });
const credentials = () => ({ input: { usernameOrEmail: user.username, password: user.password } });

/** Signs in once more from `address`; its code, or `OK`. */
async function loginFrom(address: string): Promise<unknown> {
  const result = await stack.gql(LOGIN, credentials(), from(address));
  return firstCode(result) ?? 'OK';
}

/** The user's live sessions, seen from a fresh address. */
async function sessionCount(address: string): Promise<number> {
  const login = await stack.gql(LOGIN, credentials(), from(address));
  const token = (login.body.data?.['login'] as { accessToken: string }).accessToken;
  const sessions = await stack.gql('{ sessions { id } }', undefined, { authorization: `Bearer ${token}` });
  expect(sessions.body.errors).toBeUndefined();
  return (sessions.body.data?.['sessions'] as unknown[]).length;
}

describe('copies of login in one request spend the per-IP login limit one by one', () => {
  it(`${COPIES} aliases: the first ${LOGIN_LIMIT} sign in, the next is RATE_LIMITED, and the address has no attempts left`, async () => {
    const sessionsBefore = await sessionCount('198.51.100.20');
    const aliases = Array.from(
      { length: COPIES },
      (_, index) => `l${index + 1}: login(input: $input) { sessionToken }`,
    );
    const result = await stack.gql(`mutation Aliased($input: LoginInput!) { ${aliases.join(' ')} }`, credentials(), {
      ...from('198.51.100.10'),
    });

    expect(result.status).toBe(200);
    // `login` is non-null and mutation fields run in order: the 11th is refused, which nulls
    // the whole payload and leaves the 12th unrun.
    expect(result.body.data).toBeNull();
    expect(result.body.errors).toEqual([
      expect.objectContaining({
        path: [`l${LOGIN_LIMIT + 1}`],
        extensions: expect.objectContaining({ code: 'RATE_LIMITED' }),
      }),
    ]);
    // The ten before it were processed: ten sessions exist (plus the one sessionCount opens).
    expect(await sessionCount('198.51.100.21')).toBe(sessionsBefore + 1 + LOGIN_LIMIT);
    // One request spent the address's whole hour; another address is unaffected.
    expect(await loginFrom('198.51.100.10')).toBe('RATE_LIMITED');
    expect(await loginFrom('198.51.100.11')).toBe('OK');
  });

  it(`${COPIES} aliased wrong guesses: the first fails and ends the mutation, so one attempt is spent`, async () => {
    const aliases = Array.from(
      { length: COPIES },
      (_, index) => `g${index + 1}: login(input: $input) { sessionToken }`,
    );
    const guess = { input: { usernameOrEmail: user.username, password: 'Wrong-Horse-9-Battery' } };
    const result = await stack.gql(`mutation Guesses($input: LoginInput!) { ${aliases.join(' ')} }`, guess, {
      ...from('198.51.100.40'),
    });
    expect(result.body.data).toBeNull();
    expect(result.body.errors).toEqual([
      expect.objectContaining({ path: ['g1'], extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) }),
    ]);
    for (let attempt = 2; attempt <= LOGIN_LIMIT; attempt++) expect(await loginFrom('198.51.100.40')).toBe('OK');
    expect(await loginFrom('198.51.100.40')).toBe('RATE_LIMITED');
  });

  it(`a JSON batch of ${COPIES} logins: exactly ${LOGIN_LIMIT} sign in, the rest are RATE_LIMITED`, async () => {
    const batch = Array.from({ length: COPIES }, () => ({ query: LOGIN, variables: credentials() }));
    const response = await postGraphQL(stack.gateway.url, batch, from('198.51.100.30'));
    expect(response.status).toBe(200);
    const results = response.body as unknown as Array<{
      data?: { login: { sessionToken: string } } | null;
      errors?: Array<{ extensions?: { code?: string } }>;
    }>;
    expect(results).toHaveLength(COPIES);
    const codes = results.map((result) => result.errors?.[0]?.extensions?.code ?? 'OK');
    expect(codes.filter((code) => code === 'OK')).toHaveLength(LOGIN_LIMIT);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(COPIES - LOGIN_LIMIT);
    expect(new Set(results.flatMap((result) => result.data?.login.sessionToken ?? [])).size).toBe(LOGIN_LIMIT);
    expect(await loginFrom('198.51.100.30')).toBe('RATE_LIMITED');
  });
});
