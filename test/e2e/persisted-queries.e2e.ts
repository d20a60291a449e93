import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisKeyValueCache,
  manifestOperationsOf,
  manifestText,
  operationId,
  parseManifest,
  type RunningGateway,
} from '@supergraph/gateway';
import { firstCode, newUser, postGraphQL, REGISTER, registerAndLogin, startStack, type Stack } from './harness.ts';

/**
 * Persisted queries through the real gateway: the mobile manifest in safelist
 * mode (query and mutation run, anything else is refused), APQ shared by two
 * gateways through one Redis, `documentId`, GET with a hash (CSRF header,
 * Cache-Control, no mutations), and a manifest reloaded without restart.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const mobileManifestPath = path.join(root, 'clients', 'mobile', 'persisted-query-manifest.json');
const mobile = parseManifest(readFileSync(mobileManifestPath, 'utf8'));
const op = (name: string) => {
  const found = mobile.operations.find((operation) => operation.name === name);
  if (!found) throw new Error(`no ${name} in the mobile manifest`);
  return found;
};
const byHash = (sha256Hash: string) => ({ persistedQuery: { version: 1, sha256Hash } });

let stack: Stack;
let dir: string;
let safelist: RunningGateway;

beforeAll(async () => {
  stack = await startStack({ supergraph: 'all' });
  dir = mkdtempSync(path.join(tmpdir(), 'persisted-'));
  safelist = await stack.startGatewayWith({
    persistedDocuments: { mode: 'safelist', manifest: mobileManifestPath, getMaxAgeSeconds: 30 },
  });
});

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('safelist mode (the mobile manifest)', () => {
  it('runs a listed query and a listed mutation sent by id, as Apollo clients and as documentId', async () => {
    const input = newUser('pq');
    expect((await stack.gql(REGISTER, { input })).body.errors).toBeUndefined();
    const login = await postGraphQL(safelist.url, {
      operationName: 'Login',
      variables: { input: { usernameOrEmail: input.username, password: input.password } },
      extensions: byHash(op('Login').id),
    });
    expect(login.body.errors).toBeUndefined();
    const payload = login.body.data?.['login'] as { accessToken: string; user: { username: string } };
    expect(payload.user.username).toBe(input.username);

    const me = await postGraphQL(
      safelist.url,
      { documentId: `sha256:${op('Me').id}` },
      { authorization: `Bearer ${payload.accessToken}` },
    );
    expect(me.body).toEqual({
      data: { me: expect.objectContaining({ username: input.username, __typename: 'User' }) },
    });
  });

  it('refuses unlisted text, unknown ids and APQ registration with PERSISTED_QUERY_NOT_IN_LIST, before any subgraph', async () => {
    const before = stack.authRequests();
    const text = '{ me { id } }';
    for (const body of [
      { query: text },
      { query: text, extensions: byHash(operationId(text)) },
      { extensions: byHash('0'.repeat(64)) },
      { documentId: `sha256:${'0'.repeat(64)}` },
    ]) {
      const refused = await postGraphQL(safelist.url, body);
      expect(refused.status).toBe(400);
      expect(firstCode(refused)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    }
    expect(stack.authRequests()).toBe(before);
  });

  it('serves a listed query over GET with a hash, cacheable only when anonymous; refuses a mutation over GET', async () => {
    const params = new URLSearchParams({ operationName: 'Me', extensions: JSON.stringify(byHash(op('Me').id)) });
    // Apollo's CSRF prevention: a GET must carry a header a browser form cannot send.
    const withoutHeader = await fetch(`${safelist.url}?${params}`);
    expect(withoutHeader.status).toBe(400);
    await withoutHeader.body?.cancel();

    const anonymous = await fetch(`${safelist.url}?${params}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(await anonymous.json()).toEqual({ data: { me: null } });
    expect(anonymous.headers.get('cache-control')).toBe('public, max-age=30');
    expect(anonymous.headers.get('vary')).toMatch(/Authorization/);

    const user = await registerAndLogin(stack, 'pqget');
    const signedIn = await fetch(`${safelist.url}?${params}`, {
      headers: { 'x-apollo-operation-name': 'Me', authorization: `Bearer ${user.accessToken}` },
    });
    expect(((await signedIn.json()) as { data: { me: { id: string } } }).data.me.id).toBe(user.userId);
    expect(signedIn.headers.get('cache-control')).toBe('no-store');

    const mutation = new URLSearchParams({
      documentId: `sha256:${op('Refresh').id}`,
      variables: '{"refreshToken":"x"}',
    });
    const refused = await fetch(`${safelist.url}?${mutation}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(refused.status).toBe(405);
    expect(((await refused.json()) as { errors: Array<{ message: string }> }).errors[0]!.message).toMatch(
      /GET requests only support query operations/,
    );
  });
});

describe('allow mode: APQ shared through Redis', () => {
  it('a query registered at one gateway runs by hash at another, also over GET and as documentId', async () => {
    const prefix = `test:${randomUUID()}:apq:`;
    const options = {
      persistedDocuments: { mode: 'allow' as const, apqCache: createRedisKeyValueCache(stack.redis, { prefix }) },
    };
    const [first, second] = [await stack.startGatewayWith(options), await stack.startGatewayWith(options)];
    try {
      const query = `query Pq${Date.now()} { me { id } }`;
      const hash = operationId(query);
      const miss = await postGraphQL(second.url, { extensions: byHash(hash) });
      expect(firstCode(miss)).toBe('PERSISTED_QUERY_NOT_FOUND');

      const registered = await postGraphQL(first.url, { query, extensions: byHash(hash) });
      expect(registered.body).toEqual({ data: { me: null } });
      await expect.poll(() => stack.redis.get(`${prefix}apq:${hash}`)).toBe(query);

      expect((await postGraphQL(second.url, { extensions: byHash(hash) })).body).toEqual({ data: { me: null } });
      expect((await postGraphQL(second.url, { documentId: `sha256:${hash}` })).body).toEqual({ data: { me: null } });
      const get = await fetch(`${second.url}?extensions=${encodeURIComponent(JSON.stringify(byHash(hash)))}`, {
        headers: { 'apollo-require-preflight': 'true' },
      });
      expect(await get.json()).toEqual({ data: { me: null } });
      // No max age configured: GET answers are not cached.
      expect(get.headers.get('cache-control')).toBe('no-store');
    } finally {
      const keys = await stack.redis.keys(`${prefix}*`);
      if (keys.length > 0) await stack.redis.del(...keys);
    }
  });

  it('still runs arbitrary operations and manifest ids', async () => {
    const allow = await stack.startGatewayWith({ persistedDocuments: { mode: 'allow', manifest: mobileManifestPath } });
    expect((await postGraphQL(allow.url, { query: '{ me { id } }' })).body).toEqual({ data: { me: null } });
    expect((await postGraphQL(allow.url, { documentId: op('Me').id })).body).toEqual({ data: { me: null } });
    expect(firstCode(await postGraphQL(allow.url, { documentId: 'not-a-hash' }))).toBe('PERSISTED_QUERY_NOT_FOUND');
  });
});

describe('manifest reload', () => {
  it('picks up a new manifest without restart and keeps the old one when the new file is bad', async () => {
    const file = path.join(dir, 'manifest.json');
    const [first] = manifestOperationsOf([parse('query First { me { id } }')]);
    const [second] = manifestOperationsOf([parse('query Second { me { username } }')]);
    writeFileSync(file, manifestText([first!]));
    const logged: string[] = [];
    const gateway = await stack.startGatewayWith({
      persistedDocuments: { mode: 'safelist', manifest: file, reloadIntervalMs: 50, log: (line) => logged.push(line) },
    });
    const run = (id: string) => postGraphQL(gateway.url, { documentId: `sha256:${id}` });

    expect((await run(first!.id)).body).toEqual({ data: { me: null } });
    expect(firstCode(await run(second!.id))).toBe('PERSISTED_QUERY_NOT_IN_LIST');

    writeFileSync(file, manifestText([second!]));
    await expect.poll(async () => (await run(second!.id)).body, { timeout: 5_000 }).toEqual({ data: { me: null } });
    expect(firstCode(await run(first!.id))).toBe('PERSISTED_QUERY_NOT_IN_LIST');

    writeFileSync(file, '{"format":"apollo-persisted-query-manifest","version":1,"operations":[');
    await expect.poll(() => logged.at(-1), { timeout: 5_000 }).toMatch(/rejected, keeping the previous one: not JSON/);
    expect((await run(second!.id)).body).toEqual({ data: { me: null } });
  });
});
