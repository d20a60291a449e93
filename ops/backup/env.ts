import { z } from 'zod';
import { EnvError, checkEnv, envPrefix, nodeEnv, repoPath } from '@supergraph/platform';
import type { SubgraphDatabaseSpec } from '@supergraph/db';

const TLS_SSL_MODES = ['require', 'verify-ca', 'verify-full'];

const schema = z.object({
  NODE_ENV: nodeEnv,
  /** An admin connection (superuser, or a role that reads every schema and may create the subgraph roles). */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }),
  DATABASE_TLS: z.enum(['disable']).optional(),
  /** Where backups are written and looked for; relative paths start at the repository root. */
  BACKUP_DIR: z.string().min(1).default('.data/backups'),
  BACKUP_KEEP_COUNT: z.coerce.number().int().min(1).default(7),
  BACKUP_KEEP_DAYS: z.coerce.number().int().min(1).default(30),
  /** zlib level of the custom-format archives (0 stores them uncompressed). */
  BACKUP_COMPRESSION: z.coerce.number().int().min(0).max(9).default(6),
  /** The directory of pg_dump/pg_restore/psql when they are not on PATH (e.g. /usr/lib/postgresql/15/bin). */
  PG_BIN_DIR: z.string().min(1).optional(),
});

export type BackupEnv = Readonly<
  Omit<z.infer<typeof schema>, 'BACKUP_DIR'> & {
    /** Absolute. */
    BACKUP_DIR: string;
    /** `<NAME>_DB_PASSWORD` by subgraph name: a restore that (re)creates a role gives it its password. */
    rolePasswords: Readonly<Record<string, string | undefined>>;
  }
>;

/**
 * The backup and restore scripts' configuration, read once: every problem at
 * once, in an EnvError the scripts print without a stack. Production refuses a
 * DATABASE_URL without TLS (like every service) unless DATABASE_TLS=disable.
 */
export function loadBackupEnv(
  specs: readonly SubgraphDatabaseSpec[],
  source: NodeJS.ProcessEnv = process.env,
): BackupEnv {
  const result = checkEnv(schema, source);
  const problems = [...result.problems];
  if (result.data?.NODE_ENV === 'production' && result.data.DATABASE_TLS !== 'disable') {
    const mode = new URL(result.data.DATABASE_URL).searchParams.get('sslmode');
    if (!TLS_SSL_MODES.includes(mode ?? '')) {
      problems.push(
        `DATABASE_URL: must use TLS in production (sslmode=${TLS_SSL_MODES.join(', sslmode=')}), or set DATABASE_TLS=disable on purpose`,
      );
    }
  }
  if (!result.data || problems.length > 0) {
    throw new EnvError(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
  const rolePasswords = Object.fromEntries(
    specs.map((spec) => [spec.name, source[`${envPrefix(spec.name)}_DB_PASSWORD`]?.trim() || undefined]),
  );
  return Object.freeze({ ...result.data, BACKUP_DIR: repoPath(result.data.BACKUP_DIR), rolePasswords });
}
