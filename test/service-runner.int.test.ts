import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  configureService,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  readServiceSettings,
  type RunningSubgraph,
  type SubgraphDescriptor,
} from '@supergraph/kit';
import { knowledge } from '@supergraph/knowledge';
import { envPrefix, repoPath } from '@supergraph/platform';
import { SUBGRAPHS } from '@supergraph/registry';
import { storageUnits } from '@supergraph/storage-units';
import { anonymousIdentity, startTestServices, subgraphClient, type TestServices } from '@supergraph/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What the service runner promises every subgraph: one production policy
 * (checked through each subgraph's own descriptor), and start-up failures
 * that read as one paragraph for a person, never a stack trace.
 */

/** A complete, valid production environment for a subgraph without variables of its own. */
function productionEnv(descriptor: SubgraphDescriptor): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://admin@db.internal:5432/supergraph?sslmode=require',
    [`${envPrefix(descriptor.name)}_DB_PASSWORD`]: 'f3a9c1d7e5b2a8c4d6e0f1a2',
    REDIS_URL: 'redis://redis.internal:6379',
    INTERNAL_TOKEN_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEA\\n-----END PUBLIC KEY-----',
  };
}

describe.each([knowledge, storageUnits])('production policy of $name', (descriptor) => {
  const prefix = envPrefix(descriptor.name);

  it('accepts a complete production environment', () => {
    const { problems, start } = configureService(descriptor, productionEnv(descriptor));
    expect(problems).toEqual([]);
    expect(start).toBeTypeOf('function');
  });

  it.each(['DATABASE_URL', 'REDIS_URL', 'INTERNAL_TOKEN_PUBLIC_KEY'])('requires %s', (name) => {
    const env = { ...productionEnv(descriptor), [name]: undefined };
    const { problems, start } = configureService(descriptor, env);
    expect(problems).toContain(`${name}: required in production`);
    expect(start).toBeUndefined();
  });

  it.each([undefined, 'short', 'changeme', 'x'.repeat(24)])(
    `requires a strong ${prefix}_DB_PASSWORD (%s)`,
    (password) => {
      const env = { ...productionEnv(descriptor), [`${prefix}_DB_PASSWORD`]: password };
      const { problems, start } = configureService(descriptor, env);
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^${prefix}_DB_PASSWORD: required in production`))]);
      expect(start).toBeUndefined();
    },
  );

  it.each([
    'postgres://admin@db.internal:5432/supergraph',
    'postgres://admin@db.internal:5432/supergraph?sslmode=prefer',
    'postgres://admin@db.internal:5432/supergraph?sslmode=disable',
  ])('refuses a DATABASE_URL without TLS (%s)', (url) => {
    const { problems, start } = configureService(descriptor, { ...productionEnv(descriptor), DATABASE_URL: url });
    expect(problems).toEqual([
      expect.stringMatching(/^DATABASE_URL: must use TLS in production .*DATABASE_TLS=disable/),
    ]);
    expect(start).toBeUndefined();
  });

  it.each(['verify-ca', 'verify-full'])('accepts sslmode=%s', (mode) => {
    const env = {
      ...productionEnv(descriptor),
      DATABASE_URL: `postgres://admin@db.internal:5432/supergraph?sslmode=${mode}`,
    };
    expect(configureService(descriptor, env).problems).toEqual([]);
  });

  it('accepts a DATABASE_URL without TLS when DATABASE_TLS=disable says so', () => {
    const env = {
      ...productionEnv(descriptor),
      DATABASE_URL: 'postgres://admin@postgres:5432/supergraph',
      DATABASE_TLS: 'disable',
    };
    expect(configureService(descriptor, env).problems).toEqual([]);
  });

  it('lists a DATABASE_URL without TLS with the other problems', () => {
    const env = {
      ...productionEnv(descriptor),
      DATABASE_URL: 'postgres://admin@db.internal:5432/supergraph',
      REDIS_URL: undefined,
      RATE_LIMITS_DISABLED: '1',
    };
    expect(configureService(descriptor, env).problems.map((problem) => problem.split(':')[0])).toEqual([
      'REDIS_URL',
      'DATABASE_URL',
      'RATE_LIMITS_DISABLED',
    ]);
  });

  it('refuses RATE_LIMITS_DISABLED', () => {
    const { problems } = configureService(descriptor, { ...productionEnv(descriptor), RATE_LIMITS_DISABLED: '1' });
    expect(problems).toEqual(['RATE_LIMITS_DISABLED: not allowed in production']);
  });

  it('lists every problem at once', () => {
    const { problems } = configureService(descriptor, { NODE_ENV: 'production', RATE_LIMITS_DISABLED: 'true' });
    expect(problems).toEqual([
      'DATABASE_URL: required in production',
      'REDIS_URL: required in production',
      'INTERNAL_TOKEN_PUBLIC_KEY: required in production',
      'RATE_LIMITS_DISABLED: not allowed in production',
    ]);
  });
});

interface Exit {
  code: number | null;
  output: string;
}

let dataDir: string;

/** `node subgraphs/<name>/src/main.ts` with only `env` (and PATH/HOME) set, as an operator would start it. */
function runMain(descriptor: SubgraphDescriptor, env: NodeJS.ProcessEnv): Promise<Exit> {
  const main = path.join(path.dirname(descriptor.schemaFile), 'main.ts');
  const child = spawn(process.execPath, [main], {
    cwd: repoPath(),
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

/** Exited non-zero with a person's message: no stack frames, no "Error:" dump. */
function expectCleanFailure({ code, output }: Exit): void {
  expect(code).not.toBe(0);
  expect(code).not.toBeNull();
  expect(output).not.toMatch(/^\s+at /m);
  expect(output).not.toMatch(/^\w*Error\b/m);
}

describe('every registered subgraph started as a process', () => {
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'supergraph-main-'));
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(SUBGRAPHS.map((descriptor) => [descriptor.name, descriptor] as const))(
    '%s: SUPERGRAPH_FORBID_EMBEDDED=1 without DATABASE_URL refuses PGlite',
    async (name, descriptor) => {
      const exit = await runMain(descriptor, { NODE_ENV: 'development', SUPERGRAPH_FORBID_EMBEDDED: '1' });
      expectCleanFailure(exit);
      expect(exit.output).toContain(`[${name}] DATABASE_URL is unset but SUPERGRAPH_FORBID_EMBEDDED=1 forbids PGlite`);
    },
  );

  it.each(SUBGRAPHS.map((descriptor) => [descriptor.name, descriptor] as const))(
    '%s: production with nothing set prints every missing variable',
    async (name, descriptor) => {
      const exit = await runMain(descriptor, { NODE_ENV: 'production' });
      expectCleanFailure(exit);
      expect(exit.output).toContain(`[${name}] Invalid configuration:`);
      for (const variable of ['DATABASE_URL', 'REDIS_URL', 'INTERNAL_TOKEN_PUBLIC_KEY'])
        expect(exit.output).toContain(`  - ${variable}: required in production`);
    },
  );

  it.each(SUBGRAPHS.map((descriptor) => [descriptor.name, descriptor] as const))(
    '%s: an unreachable PostgreSQL is one line naming the role, not a stack',
    async (name, descriptor) => {
      const exit = await runMain(descriptor, { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/supergraph' });
      expectCleanFailure(exit);
      expect(exit.output).toContain(
        `[${name}] failed to start: cannot connect to PostgreSQL as ${descriptor.database.role} (has \`npm run migrate\` run?)`,
      );
    },
  );

  it('a port already taken names the variable that moves it', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const exit = await runMain(knowledge, { KNOWLEDGE_PORT: String(port) });
      expectCleanFailure(exit);
      expect(exit.output).toContain(`[knowledge] port ${port} is already in use; set KNOWLEDGE_PORT to another one`);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});

describe.runIf(process.env['DATABASE_URL'])(
  'every registered subgraph with PostgreSQL but no REDIS_URL (skipped: needs DATABASE_URL — PostgreSQL roles)',
  () => {
    let services: TestServices;

    beforeAll(async () => {
      services = await startTestServices(SUBGRAPHS.map((descriptor) => descriptor.database));
    });

    afterAll(async () => {
      await services?.close();
    });

    it.each(SUBGRAPHS.map((descriptor) => [descriptor.name, descriptor] as const))(
      '%s: SUPERGRAPH_FORBID_EMBEDDED=1 refuses the in-process Redis',
      async (name, descriptor) => {
        expect(services.rolesManaged).toBe(true);
        const exit = await runMain(descriptor, {
          NODE_ENV: 'development',
          SUPERGRAPH_FORBID_EMBEDDED: '1',
          DATABASE_URL: services.database.url,
        });
        expectCleanFailure(exit);
        expect(exit.output).toContain(
          `[${name}] failed to start: REDIS_URL is unset but SUPERGRAPH_FORBID_EMBEDDED=1 forbids the in-process Redis`,
        );
      },
    );
  },
);

describe('DB_STATEMENT_TIMEOUT_MS', () => {
  it('defaults to 8 s (below the gateway’s 10 s subgraph timeout) and is read for every subgraph', () => {
    expect(DEFAULT_STATEMENT_TIMEOUT_MS).toBe(8_000);
    for (const descriptor of SUBGRAPHS) {
      expect(readServiceSettings(descriptor, {}).settings?.statementTimeoutMs).toBe(8_000);
      expect(readServiceSettings(descriptor, { DB_STATEMENT_TIMEOUT_MS: '2500' }).settings?.statementTimeoutMs).toBe(
        2_500,
      );
    }
  });

  it.each(['99', '0', '-1', '1.5', 'soon'])('refuses %s (at least 100 ms, whole milliseconds)', (value) => {
    const { problems, settings } = readServiceSettings(knowledge, { DB_STATEMENT_TIMEOUT_MS: value });
    expect(problems).toEqual([expect.stringMatching(/^DB_STATEMENT_TIMEOUT_MS: /)]);
    expect(settings).toBeUndefined();
  });

  it('accepts the minimum, 100 ms', () => {
    expect(readServiceSettings(knowledge, { DB_STATEMENT_TIMEOUT_MS: '100' }).settings?.statementTimeoutMs).toBe(100);
  });
});

describe.runIf(process.env['DATABASE_URL'])(
  'a subgraph started with DB_STATEMENT_TIMEOUT_MS=100 (skipped: needs DATABASE_URL — PGlite has no statement_timeout)',
  () => {
    let services: TestServices;
    let subgraph: RunningSubgraph | undefined;

    beforeAll(async () => {
      services = await startTestServices([knowledge.database]);
    });

    afterAll(async () => {
      await subgraph?.stop();
      await services?.close();
    });

    it('cancels a statement stuck behind a lock after 100 ms and answers a masked INTERNAL_SERVER_ERROR', async () => {
      // Settings → runtime → descriptor → createDatabase: the path `runSubgraph` takes.
      const { settings, start, problems } = configureService(knowledge, { DB_STATEMENT_TIMEOUT_MS: '100' });
      expect(problems).toEqual([]);
      subgraph = await start!({
        target: services.targetFor(knowledge.database),
        internalTokenKey: services.keys.verifyKey,
        redis: services.redis,
        rateLimits: { ...settings!.rateLimits, prefix: services.rateLimitPrefix('knowledge') },
        statementTimeoutMs: settings!.statementTimeoutMs,
        port: 0,
        host: '127.0.0.1',
      });
      const signed = subgraphClient({ url: subgraph.url, audience: 'knowledge', signingKey: services.keys.signingKey });
      const query = '{ knowledgeStats { entries } }';
      expect((await signed.call(query, {}, anonymousIdentity())).errors).toBeUndefined();

      // Waiting for a lock counts towards statement_timeout: the held lock stands in for a slow query.
      const locker = new pg.Client({ connectionString: services.database.url });
      await locker.connect();
      try {
        await locker.query('begin');
        await locker.query('lock table knowledge.entries in access exclusive mode');
        const started = performance.now();
        const result = await signed.call(query, {}, anonymousIdentity());
        const elapsedMs = performance.now() - started;
        expect(result.data).toBeNull();
        expect(result.errors).toEqual([
          expect.objectContaining({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }),
        ]);
        expect(JSON.stringify(result)).not.toMatch(/statement timeout|canceling/i);
        // Answered while the lock is still held: the statement was cancelled, not finished.
        expect(elapsedMs).toBeLessThan(2_000);
      } finally {
        await locker.query('rollback').catch(() => {});
        await locker.end();
      }
      expect((await signed.call(query, {}, anonymousIdentity())).errors).toBeUndefined();
    });
  },
);
