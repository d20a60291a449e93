import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationId } from '@supergraph/gateway';
import { repoPath } from '@supergraph/platform';
import { firstCode, postGraphQL, startStack, type Stack } from './harness.ts';

/**
 * The "APQ round-trips across two gateway processes sharing Redis":
 * two `node gateway/src/main.ts` processes, configured only by environment
 * as an operator would, in front of one stack's auth subgraph. A hash
 * registered at one is answered by the other, which can only have learned
 * it through Redis. (persisted-queries.e2e.ts checks the same with two
 * gateways in one process.)
 */

interface GatewayProcess {
  url: string;
  child: ChildProcess;
  output(): string;
}

const byHash = (sha256Hash: string) => ({ persistedQuery: { version: 1, sha256Hash } });

/** Starts `gateway/src/main.ts` on a free port and resolves once it logs its URL. */
function startGatewayProcess(env: NodeJS.ProcessEnv): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [repoPath('gateway', 'src', 'main.ts')], {
    cwd: repoPath(),
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start within 30 s:\n${output}`));
    }, 30_000);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /\[gateway\] listening on (\S+)/.exec(output);
      if (!listening) return;
      clearTimeout(timer);
      resolve({ url: listening[1]!, child, output: () => output });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${output}`));
    });
  });
}

/** SIGTERM (the gateway drains), SIGKILL if it has not exited after 5 s. */
async function stopGatewayProcess({ child }: GatewayProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

describe.runIf(process.env['REDIS_URL'])(
  'APQ across two gateway processes (skipped: needs REDIS_URL — separate processes cannot share the in-process Redis stand-in)',
  () => {
    let stack: Stack;
    let dataDir: string;
    const gateways: GatewayProcess[] = [];
    const query = `query AcrossProcesses_${randomUUID().replaceAll('-', '')} { me { id } }`;
    const hash = operationId(query);

    beforeAll(async () => {
      stack = await startStack({ supergraph: 'all' });
      dataDir = mkdtempSync(path.join(tmpdir(), 'apq-processes-'));
      const env: NodeJS.ProcessEnv = {
        NODE_ENV: 'development',
        GATEWAY_PORT: '0',
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_INTERNAL_PRIVATE_KEY: stack.internalPrivateKeyPem,
        REDIS_URL: process.env['REDIS_URL'],
        // Every Redis name under the run's prefix (APQ entries too), so the stack's teardown removes them.
        REDIS_PREFIX: stack.keyPrefix,
        // The supergraph is the repo's; only auth runs here, and `me` needs only auth.
        AUTH_URL: stack.auth.url,
        PERSISTED_DOCUMENTS_MODE: 'allow',
        APQ_TTL_SECONDS: '300',
        // Budgets would count this test's requests under the shared Redis's default prefix.
        BUDGETS_ENABLED: 'false',
        DATA_DIR: dataDir,
      };
      const started = await Promise.allSettled([startGatewayProcess(env), startGatewayProcess(env)]);
      for (const result of started) if (result.status === 'fulfilled') gateways.push(result.value);
      const failed = started.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    });

    afterAll(async () => {
      await Promise.all(gateways.map(stopGatewayProcess));
      // Only this run's registration: the key name carries the hash of a query no other run sends.
      await stack?.redis.del(`${stack.keyPrefix}apq:apq:${hash}`);
      await stack?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('a hash registered at process A runs by hash alone at process B', async () => {
      const [a, b] = gateways as [GatewayProcess, GatewayProcess];
      expect(a.child.pid).not.toBe(b.child.pid);
      expect(a.url).not.toBe(b.url);

      const miss = await postGraphQL(b.url, { extensions: byHash(hash) });
      expect(firstCode(miss)).toBe('PERSISTED_QUERY_NOT_FOUND');

      const registered = await postGraphQL(a.url, { query, extensions: byHash(hash) });
      expect(registered.body).toEqual({ data: { me: null } });
      await expect.poll(() => stack.redis.get(`${stack.keyPrefix}apq:apq:${hash}`)).toBe(query);

      expect((await postGraphQL(b.url, { extensions: byHash(hash) })).body).toEqual({ data: { me: null } });
      expect((await postGraphQL(b.url, { documentId: `sha256:${hash}` })).body).toEqual({ data: { me: null } });
    });
  },
);
