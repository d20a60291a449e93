/**
 * Vitest global setup: without DATABASE_URL the PostgreSQL-only tests (roles,
 * least privilege, connection loss) are skipped, and a green run must say so
 * instead of looking complete. Prints one line naming the files concerned.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoPath } from '@supergraph/platform';

const SKIPPED_WITHOUT_DATABASE = /\.(runIf|skipIf)\([^)]*DATABASE_URL|\.(runIf|skipIf)\(!?(isPostgres|databaseUrl)\b/;

function testFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', 'dist', '.git', '.data'].includes(entry.name)) return [];
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return testFiles(full);
    return /\.(test|e2e)\.ts$/.test(entry.name) ? [full] : [];
  });
}

export default function setup(): void {
  // Every vitest project runs its global setup; say it once per run.
  if (process.env['DATABASE_URL'] || process.env['SUPERGRAPH_SKIP_NOTICE_PRINTED']) return;
  process.env['SUPERGRAPH_SKIP_NOTICE_PRINTED'] = '1';
  const root = repoPath();
  const files = testFiles(root)
    .filter((file) => SKIPPED_WITHOUT_DATABASE.test(readFileSync(file, 'utf8')))
    .map((file) => path.relative(root, file))
    .sort();
  console.log(
    `[tests] DATABASE_URL is unset: running on PGlite${process.env['REDIS_URL'] ? '' : ' and the in-process Redis'}; ` +
      `skipped (need PostgreSQL roles): the PostgreSQL-only tests in ${files.join(', ')}. ` +
      'Set DATABASE_URL (and REDIS_URL) to run everything.',
  );
}
