import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE } from './manifest.ts';

/** A backup directory's name is its UTC start time: `2026-12-03T08-15-30-123Z` (sortable, no `:` for any filesystem). */
const NAME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/;
/** Where a backup is written until it is complete; renamed to its final name at the end. */
export const PARTIAL_SUFFIX = '.partial';
/** A `.partial` directory older than this belongs to a backup that was killed, not one still running. */
const ABANDONED_PARTIAL_MS = 24 * 60 * 60 * 1000;

export function backupName(startedAt: Date): string {
  return startedAt.toISOString().replace(/[:.]/g, '-');
}

/** The start time a backup directory's name encodes; undefined for any other name (never touched). */
export function parseBackupName(name: string): Date | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, ms] = match;
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}.${ms}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export interface RetentionPolicy {
  /** Keep at most this many complete backups (`BACKUP_KEEP_COUNT`, at least 1). */
  keepCount: number;
  /** Remove complete backups older than this many days (`BACKUP_KEEP_DAYS`). */
  keepDays: number;
}

export interface BackupEntry {
  name: string;
  startedAt: Date;
}

/**
 * Which backups a policy removes: those beyond the newest `keepCount`, and
 * those older than `keepDays`; the newest one always stays, however old, so a
 * stopped schedule never leaves zero backups behind.
 */
export function selectExpired(
  backups: readonly BackupEntry[],
  policy: RetentionPolicy,
  now: Date = new Date(),
): BackupEntry[] {
  const newestFirst = [...backups].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  const oldestKept = now.getTime() - policy.keepDays * 24 * 60 * 60 * 1000;
  return newestFirst.filter(
    (backup, index) => index > 0 && (index >= policy.keepCount || backup.startedAt.getTime() < oldestKept),
  );
}

/** Complete backups in `directory`: a timestamp name and a manifest. Anything else is somebody else's. */
export async function listBackups(directory: string): Promise<BackupEntry[]> {
  const entries = await fs.readdir(directory, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const backups: BackupEntry[] = [];
  for (const entry of entries) {
    const startedAt = entry.isDirectory() ? parseBackupName(entry.name) : undefined;
    if (startedAt && existsSync(path.join(directory, entry.name, MANIFEST_FILE))) {
      backups.push({ name: entry.name, startedAt });
    }
  }
  return backups.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
}

/**
 * Applies `policy` to `directory`: removes expired backups and `.partial`
 * leftovers of killed runs older than a day; returns the names removed.
 */
export async function applyRetention(
  directory: string,
  policy: RetentionPolicy,
  now: Date = new Date(),
): Promise<string[]> {
  const removed: string[] = [];
  for (const backup of selectExpired(await listBackups(directory), policy, now)) {
    await fs.rm(path.join(directory, backup.name), { recursive: true, force: true });
    removed.push(backup.name);
  }
  for (const entry of await fs.readdir(directory, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || !entry.name.endsWith(PARTIAL_SUFFIX)) continue;
    const startedAt = parseBackupName(entry.name.slice(0, -PARTIAL_SUFFIX.length));
    if (startedAt && now.getTime() - startedAt.getTime() > ABANDONED_PARTIAL_MS) {
      await fs.rm(path.join(directory, entry.name), { recursive: true, force: true });
      removed.push(entry.name);
    }
  }
  return removed;
}

/** The newest complete backup in `directory` (what `npm run restore -- --latest` restores). */
export async function latestBackup(directory: string): Promise<string | undefined> {
  const [newest] = await listBackups(directory);
  return newest ? path.join(directory, newest.name) : undefined;
}
