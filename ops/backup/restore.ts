import path from 'node:path';
import { parseArgs } from 'node:util';
import { EnvError } from '@supergraph/platform';
import { SUBGRAPHS } from '@supergraph/registry';
import { messageOf } from './backup-database.ts';
import { loadBackupEnv } from './env.ts';
import { restoreDatabase } from './restore-database.ts';
import { latestBackup } from './retention.ts';

const USAGE = 'usage: npm run restore -- (<backup directory> | --latest) [--clean] [--create-database]';

/**
 * `npm run restore -- <backup directory>` (or `--latest` of BACKUP_DIR) into
 * DATABASE_URL, all or nothing; `--clean` replaces schemas that exist,
 * `--create-database` creates DATABASE_URL's database first. Exit 1 with the
 * reason on any failure.
 */
const specs = SUBGRAPHS.map((subgraph) => subgraph.database);
try {
  const { values, positionals } = parseArgs({
    options: {
      latest: { type: 'boolean', default: false },
      clean: { type: 'boolean', default: false },
      'create-database': { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length > 1 || (positionals.length === 1) === values.latest) throw new Error(USAGE);
  const env = loadBackupEnv(specs);
  const backup = positionals[0] ? path.resolve(positionals[0]) : await latestBackup(env.BACKUP_DIR);
  if (!backup) throw new Error(`no complete backup in ${env.BACKUP_DIR}`);
  await restoreDatabase({
    url: env.DATABASE_URL,
    binDir: env.PG_BIN_DIR,
    specs,
    backup,
    clean: values.clean,
    createDatabase: values['create-database'],
    rolePasswords: env.rolePasswords,
    log: (line) => console.log(line),
  });
} catch (error) {
  console.error(`[restore] failed: ${error instanceof EnvError ? error.message : messageOf(error)}`);
  process.exit(1);
}
