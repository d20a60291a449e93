import { EnvError } from '@supergraph/platform';
import { SUBGRAPHS } from '@supergraph/registry';
import { backupDatabase, messageOf } from './backup-database.ts';
import { loadBackupEnv } from './env.ts';
import { applyRetention } from './retention.ts';

/**
 * `npm run backup` (also the CronJob's command): every registered schema of
 * DATABASE_URL into a new directory of BACKUP_DIR, then retention
 * (BACKUP_KEEP_COUNT, BACKUP_KEEP_DAYS). One line per schema; exit 1 with the
 * reason on any failure, and the half-written directory removed.
 */
const specs = SUBGRAPHS.map((subgraph) => subgraph.database);
try {
  const env = loadBackupEnv(specs);
  const { directory } = await backupDatabase({
    url: env.DATABASE_URL,
    binDir: env.PG_BIN_DIR,
    specs,
    directory: env.BACKUP_DIR,
    compression: env.BACKUP_COMPRESSION,
    log: (line) => console.log(line),
  });
  const removed = await applyRetention(env.BACKUP_DIR, {
    keepCount: env.BACKUP_KEEP_COUNT,
    keepDays: env.BACKUP_KEEP_DAYS,
  });
  console.log(
    `[backup] retention (newest ${env.BACKUP_KEEP_COUNT}, at most ${env.BACKUP_KEEP_DAYS} days): ` +
      (removed.length > 0 ? `removed ${removed.join(', ')}` : 'nothing to remove'),
  );
  console.log(`[backup] ${directory}`);
} catch (error) {
  console.error(`[backup] failed: ${error instanceof EnvError ? error.message : messageOf(error)}`);
  process.exit(1);
}
