import type { Kysely } from 'kysely';
import {
  badUserInput,
  DEFAULT_SETTINGS,
  parseSettingValue,
  publishSettings,
  SETTINGS_SCHEMA,
  type AuditLog,
  type Redis,
  type SettingsSnapshot,
} from '@supergraph/platform';
import type { OperationsDb, SettingRow } from './operations.table.ts';
import { listSettings, lockSettings, upsertSetting } from './settings.repository.ts';

/**
 * The stored snapshot: every key's stored value over the defaults, the
 * highest row version, the latest change. A stored value that no longer
 * validates (a setting's schema tightened) falls back to its default.
 */
export function snapshotOf(rows: readonly SettingRow[]): SettingsSnapshot {
  const values: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  let version = 0;
  let updatedAt: Date | null = null;
  for (const row of rows) {
    const parsed = parseSettingValue(row.key, row.value);
    if ('problems' in parsed) {
      console.warn(`[operations] stored setting "${row.key}" is no longer valid; using its default`);
      continue;
    }
    values[parsed.key] = parsed.value;
    version = Math.max(version, Number(row.version));
    const at = new Date(row.updated_at);
    if (!updatedAt || at > updatedAt) updatedAt = at;
  }
  return { version, updatedAt: updatedAt?.toISOString() ?? '', values: SETTINGS_SCHEMA.parse(values) };
}

export async function readSnapshot(db: Kysely<OperationsDb>): Promise<SettingsSnapshot> {
  return snapshotOf(await listSettings(db));
}

export interface SettingsServiceDeps {
  db: Kysely<OperationsDb>;
  redis: Redis;
  prefix: string;
  audit: AuditLog;
}

/**
 * Validates and stores one setting in a transaction (the version bumped under
 * a table lock), then publishes the snapshot as stored after the commit
 * (SET + PUBLISH: every process follows within a second) and records
 * `operations.setting_changed` with the old and new value. A publish that
 * fails (Redis down) is logged, not the caller's error: the change is stored,
 * and the next start (or change) publishes it.
 */
export async function updateSetting(
  deps: SettingsServiceDeps,
  input: { key: string; value: unknown; actorId: string | null; ip: string | null },
): Promise<SettingsSnapshot> {
  const parsed = parseSettingValue(input.key, input.value);
  if ('problems' in parsed) throw badUserInput(`Invalid setting: ${parsed.problems.join('; ')}`, 'value');
  const { key, value } = parsed;
  const previous = await deps.db.transaction().execute(async (trx) => {
    await lockSettings(trx);
    const before = snapshotOf(await listSettings(trx));
    await upsertSetting(trx, {
      key,
      value,
      version: before.version + 1,
      updatedBy: input.actorId,
      updatedAt: new Date(),
    });
    return before;
  });
  const snapshot = await readSnapshot(deps.db);
  await publishStoredSnapshot(deps, snapshot);
  deps.audit.record({
    type: 'operations.setting_changed',
    actorId: input.actorId,
    subjectId: null,
    ip: input.ip,
    outcome: 'success',
    // `key` would be dropped by the audit helper's secret filter (/^key$/): settings hold no secrets.
    details: {
      setting: key,
      oldValue: JSON.stringify(previous.values[key]),
      newValue: JSON.stringify(value),
      version: snapshot.version,
    },
  });
  return snapshot;
}

/** Publishes `snapshot`; false (logged) when Redis refused. */
export async function publishStoredSnapshot(
  deps: Pick<SettingsServiceDeps, 'redis' | 'prefix'>,
  snapshot: SettingsSnapshot,
): Promise<boolean> {
  try {
    await publishSettings(deps.redis, snapshot, { prefix: deps.prefix });
    return true;
  } catch (error) {
    console.error(
      `[operations] could not publish settings version ${snapshot.version}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return false;
  }
}
