import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis as RedisClient } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, REDIS_CLIENT_OPTIONS, type Redis } from './redis.ts';
import {
  DEFAULT_SETTINGS,
  parseSettingValue,
  parseSettingsSnapshot,
  publishSettings,
  settingsKeys,
  subscribeToSettings,
  type LiveSettings,
  type SettingsSnapshot,
} from './settings.ts';

const REDIS_URL = process.env['REDIS_URL'];
const prefix = `test:${randomBytes(6).toString('hex')}:`;

async function eventually(check: () => boolean, deadlineMs = 5_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('not within the deadline');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function snapshot(version: number, values: Partial<LiveSettings> = {}): SettingsSnapshot {
  return { version, updatedAt: new Date().toISOString(), values: { ...DEFAULT_SETTINGS, ...values } };
}

/** A Redis URL where nothing listens (a port bound and released). */
async function deadRedisUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `redis://127.0.0.1:${port}`;
}

describe('parseSettingValue', () => {
  it('accepts each setting in its shape', () => {
    expect(parseSettingValue('maintenance', { enabled: true, message: 'Back at ten' })).toEqual({
      key: 'maintenance',
      value: { enabled: true, message: 'Back at ten' },
    });
    expect(parseSettingValue('rateLimitMultipliers', { free: 0.5, pro: 10, enterprise: 1000 })).toEqual({
      key: 'rateLimitMultipliers',
      value: { free: 0.5, pro: 10, enterprise: 1000 },
    });
    expect(parseSettingValue('featureFlags', { 'chat.beta': true, new_ui: false })).toEqual({
      key: 'featureFlags',
      value: { 'chat.beta': true, new_ui: false },
    });
  });

  it('names every problem of a bad value, and an unknown key, without falling back to the default', () => {
    expect(parseSettingValue('nope', {})).toEqual({ problems: [expect.stringContaining('unknown setting "nope"')] });
    expect(parseSettingValue('__proto__', {})).toHaveProperty('problems');
    expect(parseSettingValue('maintenance', undefined)).toHaveProperty('problems');
    const tooBig = parseSettingValue('maintenance', { enabled: 'yes', message: 'x'.repeat(501) });
    expect('problems' in tooBig && tooBig.problems).toEqual([
      expect.stringMatching(/^maintenance\.enabled: /),
      expect.stringMatching(/^maintenance\.message: /),
    ]);
    const multipliers = parseSettingValue('rateLimitMultipliers', { free: 0, pro: 5, enterprise: 1001 });
    expect('problems' in multipliers && multipliers.problems).toHaveLength(2);
    expect(parseSettingValue('featureFlags', { 'Bad Flag': true })).toHaveProperty('problems');
    expect(parseSettingValue('featureFlags', { ok: 'true' })).toHaveProperty('problems');
  });

  it('reads a snapshot from the wire, filling defaults, and refuses strangers', () => {
    expect(parseSettingsSnapshot(JSON.stringify({ version: 3, updatedAt: 'x', values: {} }))?.values).toEqual(
      DEFAULT_SETTINGS,
    );
    expect(parseSettingsSnapshot('not json')).toBeNull();
    expect(parseSettingsSnapshot(JSON.stringify({ values: {} }))).toBeNull();
    expect(parseSettingsSnapshot(JSON.stringify({ version: 1, values: { maintenance: { enabled: 1 } } }))).toBeNull();
    expect(parseSettingsSnapshot(null)).toBeNull();
  });
});

describe('live settings (Redis when REDIS_URL is set, ioredis-mock otherwise)', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await createRedis(REDIS_URL);
  });
  afterAll(async () => {
    await redis.del(settingsKeys(prefix).key);
    redis.disconnect();
  });

  it('starts with the defaults, follows each newer snapshot, ignores older ones, and a later process reads the stored one', async () => {
    const seen: LiveSettings[] = [];
    const settings = await subscribeToSettings(redis, { prefix, onChange: (current) => seen.push(current) });
    try {
      expect(settings.current()).toEqual(DEFAULT_SETTINGS);
      expect(settings.version()).toBe(0);

      await publishSettings(redis, snapshot(2, { maintenance: { enabled: true, message: 'Upgrading' } }), { prefix });
      await eventually(() => settings.version() === 2);
      expect(settings.current().maintenance).toEqual({ enabled: true, message: 'Upgrading' });

      await publishSettings(redis, snapshot(1), { prefix });
      await publishSettings(redis, snapshot(3, { featureFlags: { beta: true } }), { prefix });
      await eventually(() => settings.version() === 3);
      expect(settings.current().featureFlags).toEqual({ beta: true });
      expect(settings.current().maintenance.enabled).toBe(false);
      expect(seen.map((current) => current.featureFlags['beta'] ?? null)).toEqual([null, true]);

      const later = await subscribeToSettings(redis, { prefix });
      expect(later.version()).toBe(3);
      expect(later.current().featureFlags).toEqual({ beta: true });
      await later.close();
    } finally {
      await settings.close();
    }
  });

  it('with Redis unreachable at start-up: the defaults, without waiting longer than the start-up bound', async () => {
    const dead = new RedisClient(await deadRedisUrl(), { ...REDIS_CLIENT_OPTIONS });
    dead.on('error', () => {});
    const logs: string[] = [];
    const started = Date.now();
    const settings = await subscribeToSettings(dead, { prefix, startupTimeoutMs: 500, log: (line) => logs.push(line) });
    try {
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(settings.current()).toEqual(DEFAULT_SETTINGS);
      expect(logs.join('\n')).toMatch(/using the defaults until Redis answers/);
    } finally {
      await settings.close();
      dead.disconnect();
    }
  });
});

describe.skipIf(!REDIS_URL)('live settings across processes and outages (needs REDIS_URL)', () => {
  let redis: Redis;
  const ownPrefix = `${prefix}x:`;
  beforeAll(async () => {
    redis = await createRedis(REDIS_URL);
  });
  afterAll(async () => {
    await redis.del(settingsKeys(ownPrefix).key);
    redis.disconnect();
  });

  it('a publish in this process reaches a subscriber in another process within a second', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./testing/settings-child.ts', import.meta.url))], {
      env: { ...process.env, SETTINGS_PREFIX: ownPrefix },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines: { ready?: boolean; version?: number; settings?: LiveSettings; receivedAt: number }[] = [];
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        console.log(`[settings child] ${line}`);
        lines.push({ ...(JSON.parse(line) as object), receivedAt: Date.now() });
      }
    });
    try {
      await eventually(() => lines.some((line) => line.ready), 30_000);
      const publishedAt = Date.now();
      await publishSettings(
        redis,
        snapshot(7, {
          rateLimitMultipliers: { free: 2, pro: 8, enterprise: 40 },
          featureFlags: { 'cross.process': true },
        }),
        { prefix: ownPrefix },
      );
      await eventually(() => lines.some((line) => line.version === 7), 5_000);
      const seen = lines.find((line) => line.version === 7)!;
      expect(seen.settings?.rateLimitMultipliers).toEqual({ free: 2, pro: 8, enterprise: 40 });
      expect(seen.settings?.featureFlags).toEqual({ 'cross.process': true });
      expect(seen.receivedAt - publishedAt).toBeLessThan(1_000);
    } finally {
      child.stdin.end();
      await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
    }
  });

  it('keeps the last known settings while its subscription is gone, and re-reads the key when it returns', async () => {
    const logs: string[] = [];
    await publishSettings(redis, snapshot(10, { maintenance: { enabled: true, message: 'm' } }), { prefix: ownPrefix });
    const settings = await subscribeToSettings(redis, { prefix: ownPrefix, log: (line) => logs.push(line) });
    try {
      expect(settings.version()).toBe(10);
      const clients = (await redis.client('LIST')) as string;
      const name = settingsKeys(ownPrefix).channel;
      const id = /id=(\d+) /.exec(clients.split('\n').find((line) => line.includes(`name=${name} `)) ?? '')?.[1];
      expect(id).toBeDefined();
      await redis.client('KILL', 'ID', id!);
      // Stored while the subscriber may be away: only the re-read on reconnect can find it.
      await redis.set(
        settingsKeys(ownPrefix).key,
        JSON.stringify(snapshot(11, { maintenance: { enabled: false, message: '' } })),
      );
      expect(settings.current().maintenance.enabled).toBe(true);
      await eventually(() => settings.version() === 11, 10_000);
      expect(settings.current().maintenance.enabled).toBe(false);
      expect(logs.join('\n')).toMatch(/LOST the Redis subscription: keeping settings version 10/);
    } finally {
      await settings.close();
    }
  });
});
