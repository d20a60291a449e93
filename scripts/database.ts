import {
  openEmbeddedPostgres,
  migrateAll,
  urlForRole,
  type DatabaseTarget,
  type MigrateReport,
  type SubgraphDatabaseSpec,
} from '@supergraph/db';
import type { SubgraphDescriptor } from '@supergraph/kit';
import { envPrefix, repoPath } from '@supergraph/platform';
import { SUBGRAPHS } from '@supergraph/registry';
import { env } from './env.ts';

export const SPECS: readonly SubgraphDatabaseSpec[] = SUBGRAPHS.map((subgraph) => subgraph.database);

/** `<NAME>_DB_PASSWORD` of every subgraph, by subgraph name. */
const rolePasswords: Record<string, string | undefined> = Object.fromEntries(
  SUBGRAPHS.map((subgraph) => [subgraph.name, process.env[`${envPrefix(subgraph.name)}_DB_PASSWORD`] || undefined]),
);

/** The admin target: `DATABASE_URL`, or the embedded PGlite in `DATA_DIR/pglite`. */
export async function openAdminTarget(): Promise<DatabaseTarget> {
  if (env.DATABASE_URL) return { kind: 'postgres', url: env.DATABASE_URL };
  if (env.SUPERGRAPH_FORBID_EMBEDDED) throw new Error('DATABASE_URL is unset and SUPERGRAPH_FORBID_EMBEDDED=1');
  const dir = repoPath(env.DATA_DIR, 'pglite');
  console.log(`[db] embedded PostgreSQL (PGlite) in ${dir}`);
  return { kind: 'pglite', pglite: await openEmbeddedPostgres(dir) };
}

/**
 * Migrates every subgraph and returns the target each one should use: its own
 * role on a real PostgreSQL when migrate could create roles, the admin target otherwise.
 */
export async function migrateAndResolveTargets(
  admin: DatabaseTarget,
): Promise<{ report: MigrateReport; targetFor: (subgraph: SubgraphDescriptor) => DatabaseTarget }> {
  const report = await migrateAll(admin, SPECS, { rolePasswords, log: (line) => console.log(line) });
  const targetFor = (subgraph: SubgraphDescriptor): DatabaseTarget => {
    if (admin.kind === 'postgres' && report.rolesManaged) {
      return { kind: 'postgres', url: urlForRole(admin.url, subgraph.database.role, rolePasswords[subgraph.name]) };
    }
    return admin;
  };
  return { report, targetFor };
}

/** Runs every seeder of `subgraphs` in order (the registry's by default); returns the total time. */
export async function seedAll(
  targetFor: (subgraph: SubgraphDescriptor) => DatabaseTarget,
  subgraphs: readonly SubgraphDescriptor[] = SUBGRAPHS,
): Promise<number> {
  let durationMs = 0;
  const limit = env.SEED_LIMIT !== undefined ? { limit: env.SEED_LIMIT } : {};
  for (const subgraph of subgraphs) {
    if (!subgraph.seed) continue;
    // Each seeder reports its own progress and counts.
    durationMs += (await subgraph.seed(targetFor(subgraph), { log: (line) => console.log(line), ...limit })).durationMs;
  }
  return durationMs;
}
