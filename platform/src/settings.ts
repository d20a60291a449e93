import { z } from 'zod';
import { withDeadline } from './deadline.ts';
import type { Redis } from 'ioredis';
import { createLogger } from './logger.ts';

const tierMultiplier = z.number().min(0.1).max(1000);

/**
 * Each setting's own schema, without its default: what a client may send for
 * it ({@link parseSettingValue} must not turn a missing value into the default).
 */
const SETTING_VALUE_SCHEMAS = {
  maintenance: z.object({ enabled: z.boolean(), message: z.string().max(500) }),
  rateLimitMultipliers: z.object({ free: tierMultiplier, pro: tierMultiplier, enterprise: tierMultiplier }),
  featureFlags: z.record(z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/), z.boolean()),
} as const;

/**
 * The settings an operator changes at run time (the operations subgraph's
 * `updateSetting`) and every process follows without a restart; a snapshot
 * missing a setting gets its default.
 */
export const SETTINGS_SCHEMA = z.object({
  maintenance: SETTING_VALUE_SCHEMAS.maintenance.default({ enabled: false, message: '' }),
  rateLimitMultipliers: SETTING_VALUE_SCHEMAS.rateLimitMultipliers.default({ free: 1, pro: 5, enterprise: 20 }),
  featureFlags: SETTING_VALUE_SCHEMAS.featureFlags.default({}),
});

export type LiveSettings = z.infer<typeof SETTINGS_SCHEMA>;
export type SettingKey = keyof LiveSettings;

/** What every process runs with until operations has published a snapshot. */
export const DEFAULT_SETTINGS: LiveSettings = Object.freeze(SETTINGS_SCHEMA.parse({}));

export const SETTING_KEYS: readonly SettingKey[] = Object.freeze(Object.keys(SETTING_VALUE_SCHEMAS) as SettingKey[]);

function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTING_VALUE_SCHEMAS, key);
}

/**
 * Validates one setting's value (unknown JSON from a client); returns the
 * parsed value or the problems, each `path: message`, for BAD_USER_INPUT.
 *
 * @example
 * const parsed = parseSettingValue('maintenance', { enabled: true, message: 'Back at 10:00' });
 * if ('problems' in parsed) throw badUserInput(parsed.problems.join('; '));
 */
export function parseSettingValue(
  key: string,
  value: unknown,
): { key: SettingKey; value: LiveSettings[SettingKey] } | { problems: string[] } {
  if (!isSettingKey(key)) return { problems: [`unknown setting "${key}" (known: ${SETTING_KEYS.join(', ')})`] };
  const result = SETTING_VALUE_SCHEMAS[key].safeParse(value);
  if (!result.success) {
    return {
      problems: result.error.issues.map((issue) => `${[key, ...issue.path.map(String)].join('.')}: ${issue.message}`),
    };
  }
  return { key, value: result.data };
}

/** The snapshot operations publishes: Redis key `<prefix>settings` holds it as JSON, channel `<prefix>settings` carries each new one. */
export interface SettingsSnapshot {
  version: number;
  updatedAt: string;
  values: LiveSettings;
}

/** The default prefix of every Redis name of the issue-9 pipelines (settings, audit, usage). */
export const DEFAULT_REDIS_PREFIX = 'supergraph:';

/** The Redis key and the pub/sub channel (the same name) of the live settings. */
export function settingsKeys(prefix = DEFAULT_REDIS_PREFIX): { key: string; channel: string } {
  return { key: `${prefix}settings`, channel: `${prefix}settings` };
}

/** A snapshot from the wire; null for anything else (a stranger on the channel, a hand-edited key). */
export function parseSettingsSnapshot(json: string | null): SettingsSnapshot | null {
  if (json === null) return null;
  try {
    const raw = JSON.parse(json) as Partial<{ version: unknown; updatedAt: unknown; values: unknown }> | null;
    if (!raw || typeof raw.version !== 'number' || !Number.isFinite(raw.version)) return null;
    const values = SETTINGS_SCHEMA.safeParse(raw.values ?? {});
    if (!values.success) return null;
    return {
      version: raw.version,
      updatedAt: typeof raw.updatedAt === 'string' ? raw.updatedAt : '',
      values: values.data,
    };
  } catch {
    return null;
  }
}

/**
 * Stores the snapshot (so a process starting later reads it), then publishes
 * it (so running processes follow at once). Rejects when Redis does.
 */
export async function publishSettings(
  redis: Redis,
  snapshot: SettingsSnapshot,
  options: { prefix?: string } = {},
): Promise<void> {
  const { key, channel } = settingsKeys(options.prefix);
  const json = JSON.stringify({ ...snapshot, values: SETTINGS_SCHEMA.parse(snapshot.values) });
  await redis.set(key, json);
  await redis.publish(channel, json);
}

/** What a process reads its live settings from. */
export interface SettingsSource {
  /** The settings in force now (the defaults until a snapshot arrived). */
  current(): LiveSettings;
  /** The version of the snapshot in force; 0 before any. */
  version(): number;
  close(): Promise<void>;
}

/**
 * Settings that never change: the default for services started without
 * Redis-backed settings (unit tests, a subgraph embedded in a test).
 */
export function fixedSettings(values: Partial<LiveSettings> = {}): SettingsSource {
  const settings = SETTINGS_SCHEMA.parse(values);
  return { current: () => settings, version: () => 0, close: async () => {} };
}

/**
 * Every process: subscribes on its own connection (a subscribed connection
 * can do nothing else), then reads the stored snapshot, so nothing published
 * in between is lost; keeps the newest version whatever order they arrive in.
 * While Redis is down it keeps the last known settings; when the subscription
 * returns it re-reads the key (a publish may have been missed). Start-up does
 * not wait for Redis longer than `startupTimeoutMs` (default 3 s).
 *
 * @example
 * const settings = await subscribeToSettings(redis, { prefix });
 * if (settings.current().maintenance.enabled) refuse();
 */
export async function subscribeToSettings(
  redis: Redis,
  options: {
    prefix?: string;
    onChange?: (settings: LiveSettings) => void;
    log?: (message: string) => void;
    startupTimeoutMs?: number;
  } = {},
): Promise<SettingsSource> {
  const { key, channel } = settingsKeys(options.prefix);
  const log = options.log ?? ((message: string) => createLogger('settings').error(message));
  let settings: LiveSettings = DEFAULT_SETTINGS;
  let version = 0;
  let closed = false;
  let lost = false;

  function apply(snapshot: SettingsSnapshot | null): void {
    if (!snapshot || snapshot.version <= version || closed) return;
    version = snapshot.version;
    settings = Object.freeze(snapshot.values);
    try {
      options.onChange?.(settings);
    } catch (error) {
      log(`onChange failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async function reload(): Promise<void> {
    apply(parseSettingsSnapshot(await redis.get(key)));
  }

  // Named after its channel, so an operator (or a test) can find this connection in CLIENT LIST.
  const subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName: channel });
  subscriber.on('message', (from: string, message: string) => {
    if (from === channel) apply(parseSettingsSnapshot(message));
  });
  subscriber.on('error', (error: Error) => {
    if (!lost) log(`subscriber error: ${error.message}`);
  });
  subscriber.on('close', () => {
    if (closed || lost) return;
    lost = true;
    log(`LOST the Redis subscription: keeping settings version ${version} until it returns`);
  });
  subscriber.on('ready', () => {
    if (closed || !lost) return;
    lost = false;
    reload().then(
      () => log(`Redis subscription restored; settings re-read (version ${version})`),
      (error: unknown) => log(`re-read after reconnect failed: ${error instanceof Error ? error.message : error}`),
    );
  });

  try {
    await withDeadline(subscriber.subscribe(channel).then(reload), options.startupTimeoutMs ?? 3_000, () => {
      throw new Error('Redis did not answer');
    });
  } catch (error) {
    lost = true;
    log(
      `could not read settings at start-up (${error instanceof Error ? error.message : error}); using the defaults until Redis answers`,
    );
  }

  return {
    current: () => settings,
    version: () => version,
    close: async () => {
      closed = true;
      subscriber.disconnect();
    },
  };
}
