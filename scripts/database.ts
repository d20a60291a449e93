import path from 'node:path';
import {
  openEmbeddedPostgres,
  migrateAll,
  urlForRole,
  type DatabaseTarget,
  type MigrateReport,
  type SubgraphDatabaseSpec,
} from '@supergraph/db';
import { databaseSpec as authSpec } from '@supergraph/auth';
import { databaseSpec as knowledgeSpec } from '@supergraph/knowledge';
import { databaseSpec as storageUnitsSpec } from '@supergraph/storage-units';
import { env } from './env.ts';

export const SPECS: readonly SubgraphDatabaseSpec[] = [authSpec, knowledgeSpec, storageUnitsSpec];

const rolePasswords: Record<string, string | undefined> = {
  auth: env.AUTH_DB_PASSWORD,
  knowledge: env.KNOWLEDGE_DB_PASSWORD,
  'storage-units': env.STORAGE_UNITS_DB_PASSWORD,
};

/** The admin target: `DATABASE_URL`, or the embedded PGlite in `DATA_DIR/pglite`. */
export async function openAdminTarget(): Promise<DatabaseTarget> {
  if (env.DATABASE_URL) return { kind: 'postgres', url: env.DATABASE_URL };
  if (env.SUPERGRAPH_FORBID_EMBEDDED) throw new Error('DATABASE_URL is unset and SUPERGRAPH_FORBID_EMBEDDED=1');
  const dir = path.resolve(env.DATA_DIR, 'pglite');
  console.log(`[db] embedded PostgreSQL (PGlite) in ${dir}`);
  return { kind: 'pglite', pglite: await openEmbeddedPostgres(dir) };
}

/**
 * Migrates every subgraph and returns the target each one should use: its own
 * role on a real PostgreSQL when migrate could create roles, the admin target otherwise.
 */
export async function migrateAndResolveTargets(
  admin: DatabaseTarget,
): Promise<{ report: MigrateReport; targetFor: (name: string) => DatabaseTarget }> {
  const report = await migrateAll(admin, SPECS, { rolePasswords, log: (line) => console.log(line) });
  const targetFor = (name: string): DatabaseTarget => {
    const spec = SPECS.find((candidate) => candidate.name === name);
    if (!spec) throw new Error(`unknown subgraph ${name}`);
    if (admin.kind === 'postgres' && report.rolesManaged) {
      return { kind: 'postgres', url: urlForRole(admin.url, spec.role, rolePasswords[name]) };
    }
    return admin;
  };
  return { report, targetFor };
}
