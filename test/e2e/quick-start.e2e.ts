import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@supergraph/db';
import { deleteKeys, testRedis } from '@supergraph/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The README's quick start as a user runs it: `scripts/start.ts` as its own
 * process (real PostgreSQL when DATABASE_URL is set, PGlite otherwise), then
 * the first query over HTTP, then SIGTERM must stop everything cleanly.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let child: ChildProcess;
let output = '';
let dataDir: string;
let testDb: TestDatabase | undefined;
let gatewayUrl: string;
let rateLimitPrefix: string;

async function gql(query: string, token?: string) {
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: Record<string, Record<string, unknown>>; errors?: unknown[] };
}

describe('npm start (scripts/start.ts as a process)', () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'supergraph-start-'));
    const ports = {
      GATEWAY_PORT: await freePort(),
      AUTH_PORT: await freePort(),
      KNOWLEDGE_PORT: await freePort(),
      STORAGE_UNITS_PORT: await freePort(),
    };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      SEED_LIMIT: '20',
      NODE_ENV: 'development',
      // Counters of this run only: a shared Redis keeps other runs' register/login attempts for an hour.
      RATE_LIMIT_PREFIX: (rateLimitPrefix = `test:${path.basename(dataDir)}:`),
    };
    for (const [name, port] of Object.entries(ports)) env[name] = String(port);
    if (process.env['DATABASE_URL']) {
      testDb = await createTestDatabase(process.env['DATABASE_URL']);
      env['DATABASE_URL'] = testDb.url;
    }
    gatewayUrl = `http://127.0.0.1:${ports.GATEWAY_PORT}/graphql`;
    child = spawn(process.execPath, ['scripts/start.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 90_000;
    while (!output.includes('Supergraph is up')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`start failed:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await testDb?.drop();
    // The process counted in REDIS_URL's server (its own in-process Redis otherwise): remove what it wrote.
    if (process.env['REDIS_URL'] && rateLimitPrefix) {
      const redis = await testRedis();
      await deleteKeys(redis, rateLimitPrefix).finally(() => redis.disconnect());
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints every URL and answers register, login and me through the gateway', async () => {
    expect(output).toContain(gatewayUrl);
    const register = await gql(
      'mutation { register(input: {username: "ada", email: "ada@example.com", password: "Correct-Horse-9"}) { username } }',
    );
    expect(register.data?.['register']).toEqual({ username: 'ada' });
    const login = await gql(
      'mutation { login(input: {usernameOrEmail: "ada", password: "Correct-Horse-9"}) { accessToken } }',
    );
    const token = login.data?.['login']?.['accessToken'];
    expect(typeof token).toBe('string');
    const me = await gql('{ me { username tier } }', token as string);
    expect(me.data?.['me']).toEqual({ username: 'ada', tier: 'FREE' });
  });

  it('seeds in the background and serves the other subgraphs', async () => {
    const deadline = Date.now() + 60_000;
    while (!output.includes('[seed] storage-units done') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const result = await gql('{ knowledgeStats { entries } facilityStatus { unitsOnline } }');
    expect(result.errors).toBeUndefined();
    expect(result.data?.['knowledgeStats']?.['entries']).toBe(20);
    expect(result.data?.['facilityStatus']?.['unitsOnline']).toBe(7);
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000)),
    ]);
    expect(code).toBe(0);
  });
});
