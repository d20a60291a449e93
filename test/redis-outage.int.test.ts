import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { databaseSpec as authSpec, defaultAuthConfig, startAuthSubgraph } from '@supergraph/auth';
import type { RunningSubgraph } from '@supergraph/kit';
import { databaseSpec as knowledgeSpec, startKnowledgeSubgraph } from '@supergraph/knowledge';
import { createRedis, type Redis } from '@supergraph/platform';
import {
  anonymousIdentity,
  startTestServices,
  subgraphClient,
  userIdentity,
  type GraphQLResponse,
  type TestServices,
} from '@supergraph/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Finding 3 of the security run: with Redis down, login and registration
 * limits switched off and every limited call hung on queued commands. Here a
 * private `redis-server` (always a real one, so CI runs it too) is killed
 * under a running auth and knowledge subgraph, then started again on the
 * same port.
 */

const PASSWORD = 'Correct-Horse-42-battery';
const LOGIN = 'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }';
const REGISTER = 'mutation ($input: RegisterInput!) { register(input: $input) { id } }';
const REFRESH = 'mutation ($token: String!) { refresh(refreshToken: $token) { accessToken } }';
const SEARCH = '{ searchKnowledge(query: "anything") { __typename } }';
/** Generous: a dead Redis must answer in milliseconds, not after queued retries (0.8-2.9 s before the fix). */
const FAST_MS = 3_000;

let services: TestServices;
let redisServer: ChildProcess | undefined;
let port: number;
let redis: Redis;
let auth: RunningSubgraph;
let knowledge: RunningSubgraph;
let callAuth: (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;
let callKnowledge: (query: string) => Promise<GraphQLResponse>;
const clientIp = '198.51.100.23';
const username = `outage_${Math.random().toString(36).slice(2, 8)}`;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: free } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return free;
}

async function startRedisServer(): Promise<void> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
  redisServer = child;
}

async function killRedisServer(): Promise<void> {
  const child = redisServer;
  redisServer = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

function codeOf(result: GraphQLResponse): string {
  return (result.errors?.[0]?.extensions?.['code'] as string | undefined) ?? 'OK';
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

beforeAll(async () => {
  services = await startTestServices([authSpec, knowledgeSpec]);
  port = await freePort();
  await startRedisServer();
  redis = await createRedis(`redis://127.0.0.1:${port}`);
  const prefix = services.rateLimitPrefix('outage');
  auth = await startAuthSubgraph(
    {
      target: services.targetFor(authSpec),
      internalTokenKey: services.keys.verifyKey,
      config: await defaultAuthConfig(),
      redis,
      rateLimits: { prefix },
    },
    0,
  );
  knowledge = await startKnowledgeSubgraph(
    {
      target: services.targetFor(knowledgeSpec),
      internalTokenKey: services.keys.verifyKey,
      redis,
      rateLimits: { prefix },
    },
    0,
  );
  const authClient = subgraphClient({ url: auth.url, audience: 'auth', signingKey: services.keys.signingKey });
  const knowledgeClient = subgraphClient({
    url: knowledge.url,
    audience: 'knowledge',
    signingKey: services.keys.signingKey,
  });
  callAuth = (query, variables = {}) => authClient.call(query, variables, anonymousIdentity(clientIp));
  callKnowledge = (query) => knowledgeClient.call(query, {}, userIdentity());
}, 60_000);

afterAll(async () => {
  await auth?.stop();
  await knowledge?.stop();
  redis?.disconnect();
  await killRedisServer();
  await services?.close();
});

describe('Redis unavailable', () => {
  it('login, register and refresh fail closed quickly, search fails open, and both recover without a restart', async () => {
    const email = `${username}@example.com`;
    expect(codeOf(await callAuth(REGISTER, { input: { username, email, password: PASSWORD } }))).toBe('OK');
    expect(codeOf(await callAuth(LOGIN, { input: { usernameOrEmail: username, password: PASSWORD } }))).toBe('OK');
    expect(codeOf(await callKnowledge(SEARCH))).toBe('OK');

    await killRedisServer();

    // The security run's 15 wrong logins from one IP: none processed, none slow.
    for (let i = 0; i < 15; i += 1) {
      const { result, ms } = await timed(() =>
        callAuth(LOGIN, { input: { usernameOrEmail: username, password: `Wrong-password-${i}` } }),
      );
      expect(codeOf(result)).toBe('SERVICE_UNAVAILABLE');
      expect(result.errors?.[0]?.message).toMatch(/rate limiter cannot be reached/);
      expect(ms).toBeLessThan(FAST_MS);
    }
    const rightPassword = await callAuth(LOGIN, { input: { usernameOrEmail: username, password: PASSWORD } });
    expect(codeOf(rightPassword)).toBe('SERVICE_UNAVAILABLE');
    const other = `${username}_2`;
    const register = await callAuth(REGISTER, {
      input: { username: other, email: `${other}@example.com`, password: PASSWORD },
    });
    expect(codeOf(register)).toBe('SERVICE_UNAVAILABLE');
    expect(codeOf(await callAuth(REFRESH, { token: 'not-a-token' }))).toBe('SERVICE_UNAVAILABLE');

    const search = await timed(() => callKnowledge(SEARCH));
    expect(codeOf(search.result)).toBe('OK');
    expect(search.ms).toBeLessThan(FAST_MS);

    await startRedisServer();
    const deadline = Date.now() + 15_000;
    let code = 'SERVICE_UNAVAILABLE';
    while (code === 'SERVICE_UNAVAILABLE' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      code = codeOf(await callAuth(LOGIN, { input: { usernameOrEmail: username, password: PASSWORD } }));
    }
    expect(code).toBe('OK');
    // Counting again, in the restarted (empty) Redis.
    expect(await redis.keys(`${services.rateLimitPrefix('outage')}*`)).not.toHaveLength(0);
    expect(codeOf(await callKnowledge(SEARCH))).toBe('OK');
  }, 60_000);
});
