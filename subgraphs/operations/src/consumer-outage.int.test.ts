import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '@supergraph/db';
import { createAuditLog, createRedis, type Redis } from '@supergraph/platform';
import { freePort, startTestServices, type TestServices } from '@supergraph/testing';
import { insertAuditEvents } from './audit.repository.ts';
import { auditRowOf } from './ingest.ts';
import type { OperationsDb } from './operations.table.ts';
import { databaseSpec } from './server.ts';
import { StreamConsumer, type StreamConsumerHandle } from './stream-consumer.ts';
import { eventually } from './testing/harness.ts';

/**
 * The audit consumer across a Redis outage: a private `redis-server` (always
 * a real one, so both modes run it) is killed under the running consumer and
 * started again on the same port. Skipped, saying why, where the binary is
 * missing.
 */
const hasRedisServer = await new Promise<boolean>((resolve) => {
  const probe = spawn('redis-server', ['--version'], { stdio: 'ignore' });
  probe.once('error', () => resolve(false));
  probe.once('exit', (code) => resolve(code === 0));
});

describe.skipIf(!hasRedisServer)('the stream consumer across a Redis outage (needs redis-server on PATH)', () => {
  let services: TestServices;
  let database: Database<OperationsDb>;
  let port: number;
  let server: ChildProcess | undefined;
  let redis: Redis;
  let consumer: StreamConsumerHandle;
  const logs: string[] = [];
  const stream = `test:${randomUUID()}:audit`;

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
    server = child;
  }

  async function killRedisServer(): Promise<void> {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async function storedIds(): Promise<string[]> {
    const rows = await database.db.selectFrom('audit_events').select('id').execute();
    return rows.map((row) => row.id);
  }

  async function record(): Promise<string> {
    const id = randomUUID();
    await redis.xadd(
      stream,
      '*',
      'event',
      JSON.stringify({
        id,
        at: new Date().toISOString(),
        type: 'admin.action',
        service: 'outage-test',
        actorId: null,
        subjectId: null,
        ip: null,
        outcome: 'success',
        details: {},
      }),
    );
    return id;
  }

  beforeAll(async () => {
    services = await startTestServices([databaseSpec]);
    database = createDatabase<OperationsDb>(services.targetFor(databaseSpec), { schema: 'operations', poolMax: 2 });
    port = await freePort();
    await startRedisServer();
    redis = await createRedis(`redis://127.0.0.1:${port}`);
    redis.on('error', () => {});
    consumer = new StreamConsumer({
      db: database.db,
      redis,
      stream,
      parse: auditRowOf,
      store: insertAuditEvents,
      log: (line) => logs.push(line),
    });
    consumer.start();
  }, 60_000);

  afterAll(async () => {
    await consumer?.stop();
    redis?.disconnect();
    await killRedisServer();
    await database?.close();
    await services?.close();
  });

  it('logs the outage once, retries, and consumes again when Redis is back', async () => {
    const before = await record();
    await eventually(async () => ((await storedIds()).includes(before) ? true : undefined));

    await killRedisServer();
    await eventually(async () => (logs.some((line) => line.includes('cannot consume')) ? true : undefined));
    // The helper never throws while Redis is down; the event it drops is counted.
    const audit = createAuditLog(redis, {
      service: 'outage-test',
      prefix: stream.replace(/audit$/, ''),
      log: () => {},
    });
    audit.record({ type: 'admin.action', actorId: null, subjectId: null, ip: null, outcome: 'success', details: {} });
    await audit.flush();
    expect(audit.dropped()).toBe(1);

    await startRedisServer();
    await eventually(async () => (redis.status === 'ready' ? true : undefined));
    // A fresh server holds an empty stream; its ids are later than the stored offset (they are time-based).
    const after = await record();
    await eventually(async () => ((await storedIds()).includes(after) ? true : undefined), 30_000);
    expect(logs.filter((line) => line.includes('cannot consume'))).toHaveLength(1);
    expect(logs.some((line) => line.includes('consuming again'))).toBe(true);
  }, 60_000);

  it('stops at once even while blocked in XREAD', async () => {
    const started = performance.now();
    await consumer.stop();
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
