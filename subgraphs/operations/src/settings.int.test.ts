import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingsKeys, subscribeToSettings, parseSettingsSnapshot, type LiveSettings } from '@supergraph/platform';
import { forkServer, type ForkedServer } from '@supergraph/testing';
import { adminIdentity, eventually, startHarness, userIdentity, type OperationsHarness } from './testing/harness.ts';

const SETTINGS = `{ settings { maintenance { enabled message } rateLimitMultipliers { free pro enterprise }
  featureFlags { name enabled } version updatedAt values } }`;
const UPDATE = `mutation ($key: String!, $value: JSON!) {
  updateSetting(key: $key, value: $value) { maintenance { enabled message } rateLimitMultipliers { free pro enterprise }
    featureFlags { name enabled } version updatedAt values }
}`;

interface SettingsShape {
  maintenance: { enabled: boolean; message: string };
  rateLimitMultipliers: { free: number; pro: number; enterprise: number };
  featureFlags: Array<{ name: string; enabled: boolean }>;
  version: number;
  updatedAt: string | null;
  values: LiveSettings;
}

let harness: OperationsHarness;
const operator = adminIdentity();

beforeAll(async () => {
  harness = await startHarness();
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

async function storedSnapshot() {
  return parseSettingsSnapshot(await harness.redis.get(settingsKeys(harness.prefix).key));
}

describe('live settings', () => {
  it('start with the defaults, version 0, published at start', async () => {
    const result = await harness.call<{ settings: SettingsShape }>(SETTINGS, {}, operator);
    expect(result.errors).toBeUndefined();
    expect(result.data!.settings).toEqual({
      maintenance: { enabled: false, message: '' },
      rateLimitMultipliers: { free: 1, pro: 5, enterprise: 20 },
      featureFlags: [],
      version: 0,
      updatedAt: null,
      values: {
        maintenance: { enabled: false, message: '' },
        rateLimitMultipliers: { free: 1, pro: 5, enterprise: 20 },
        featureFlags: {},
      },
    });
    expect((await storedSnapshot())?.version).toBe(0);
  });

  it('refuse unknown keys and invalid values with BAD_USER_INPUT, changing nothing', async () => {
    const cases: Array<[string, unknown]> = [
      ['nope', { enabled: true }],
      ['maintenance', { enabled: 'yes', message: '' }],
      ['maintenance', { enabled: true, message: 'x'.repeat(501) }],
      ['maintenance', { enabled: true }],
      ['rateLimitMultipliers', { free: 0, pro: 5, enterprise: 20 }],
      ['rateLimitMultipliers', { free: 1, pro: 5, enterprise: 1001 }],
      ['featureFlags', { 'Bad Name': true }],
      ['featureFlags', { good: 'on' }],
      ['featureFlags', [true]],
    ];
    for (const [key, value] of cases) {
      const result = await harness.call(UPDATE, { key, value }, operator);
      expect(result.errors?.[0]?.extensions?.code, `${key} ${JSON.stringify(value)}`).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(/Invalid setting/);
    }
    const after = await harness.call<{ settings: SettingsShape }>(SETTINGS, {}, operator);
    expect(after.data!.settings.version).toBe(0);
  });

  it('store a change with a new version, publish it to a follower, and audit it', async () => {
    const follower = await subscribeToSettings(harness.redis, { prefix: harness.prefix });
    try {
      const changed = await harness.call<{ updateSetting: SettingsShape }>(
        UPDATE,
        { key: 'maintenance', value: { enabled: true, message: 'Back at 10:00 UTC' } },
        operator,
      );
      expect(changed.errors).toBeUndefined();
      expect(changed.data!.updateSetting).toMatchObject({
        maintenance: { enabled: true, message: 'Back at 10:00 UTC' },
        version: 1,
      });
      expect(changed.data!.updateSetting.updatedAt).not.toBeNull();
      const flags = await harness.call<{ updateSetting: SettingsShape }>(
        UPDATE,
        { key: 'featureFlags', value: { 'new-chat': true, beta_search: false } },
        operator,
      );
      expect(flags.data!.updateSetting).toMatchObject({
        version: 2,
        maintenance: { enabled: true },
        featureFlags: [
          { name: 'beta_search', enabled: false },
          { name: 'new-chat', enabled: true },
        ],
      });
      await eventually(async () => (follower.version() === 2 ? true : undefined));
      expect(follower.current().maintenance).toEqual({ enabled: true, message: 'Back at 10:00 UTC' });
      expect(follower.current().featureFlags).toEqual({ 'new-chat': true, beta_search: false });
      expect((await storedSnapshot())?.version).toBe(2);

      const rows = await eventually(async () => {
        const found = await harness.running.app.db
          .selectFrom('audit_events')
          .selectAll()
          .where('type', '=', 'operations.setting_changed')
          .orderBy('at')
          .execute();
        return found.length === 2 ? found : undefined;
      });
      expect(rows[0]).toMatchObject({ service: 'operations', actor_id: operator.userId, outcome: 'success' });
      expect(rows[0]!.details).toEqual({
        setting: 'maintenance',
        oldValue: JSON.stringify({ enabled: false, message: '' }),
        newValue: JSON.stringify({ enabled: true, message: 'Back at 10:00 UTC' }),
        version: 1,
      });
      const stored = await harness.running.app.db.selectFrom('settings').selectAll().orderBy('key').execute();
      expect(stored.map((row) => [row.key, Number(row.version), row.updated_by])).toEqual([
        ['featureFlags', 2, operator.userId],
        ['maintenance', 1, operator.userId],
      ]);
    } finally {
      await follower.close();
    }
  });

  it('survive a restart: a new instance publishes the stored snapshot again (a Redis that lost it learns it)', async () => {
    await harness.redis.del(settingsKeys(harness.prefix).key);
    const restarted = await harness.startInstance();
    expect((await storedSnapshot())?.version).toBe(2);
    expect((await storedSnapshot())?.values.maintenance.enabled).toBe(true);
    await restarted.stop();
  });

  it('are read by operators and changed by admins only', async () => {
    const user = userIdentity();
    expect((await harness.call(SETTINGS, {}, user)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const refused = await harness.call(UPDATE, { key: 'maintenance', value: { enabled: false, message: '' } }, user);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await harness.call(UPDATE, { key: 'maintenance', value: {} }, null)).status).toBe(401);
    const after = await harness.call<{ settings: SettingsShape }>(SETTINGS, {}, operator);
    expect(after.data!.settings.version).toBe(2);
  });

  it('allow 10 changes an hour on the free tier', async () => {
    const admin = adminIdentity({ tier: 'free' });
    for (let index = 0; index < 10; index++) {
      const result = await harness.call(
        UPDATE,
        { key: 'rateLimitMultipliers', value: { free: 1 + index, pro: 5, enterprise: 20 } },
        admin,
      );
      expect(result.errors, `change ${index + 1}`).toBeUndefined();
    }
    const refused = await harness.call(
      UPDATE,
      { key: 'rateLimitMultipliers', value: { free: 1, pro: 5, enterprise: 20 } },
      admin,
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });
});

const crossProcess = Boolean(process.env['REDIS_URL']);

/** Only real Redis connects two processes: without REDIS_URL this is skipped, saying why. */
describe.skipIf(!crossProcess)('propagation to another process (needs REDIS_URL)', () => {
  let follower: ForkedServer;

  beforeAll(async () => {
    follower = await forkServer(fileURLToPath(new URL('./testing/settings-follower.ts', import.meta.url)), {
      redisUrl: process.env['REDIS_URL'] ?? '',
      prefix: harness.prefix,
    });
  }, 60_000);

  afterAll(async () => {
    await follower?.stop();
  });

  it('a change reaches a process following the settings within a second, without a restart', async () => {
    const read = async () => (await (await fetch(follower.url)).json()) as { version: number; settings: LiveSettings };
    const before = await read();
    const started = performance.now();
    const changed = await harness.call<{ updateSetting: SettingsShape }>(
      UPDATE,
      { key: 'maintenance', value: { enabled: false, message: 'done' } },
      adminIdentity(),
    );
    expect(changed.errors).toBeUndefined();
    const version = changed.data!.updateSetting.version;
    expect(version).toBeGreaterThan(before.version);
    const seen = await eventually(async () => {
      const state = await read();
      return state.version >= version ? state : undefined;
    });
    const elapsedMs = performance.now() - started;
    console.log(
      `[settings] the other process had version ${version} ${elapsedMs.toFixed(0)} ms after updateSetting was sent`,
    );
    expect(seen.settings.maintenance).toEqual({ enabled: false, message: 'done' });
    // The contract is "within a second"; the bound is generous so a loaded machine does not fail it.
    expect(elapsedMs).toBeLessThan(5_000);
  });
});
