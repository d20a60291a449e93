import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { FileMigrationProvider, Migrator, type MigrationResult } from 'kysely/migration';
import pg from 'pg';
import { createDatabase, quoteIdent, type DatabaseTarget } from './connection.ts';

/** What one subgraph owns in PostgreSQL: its login role and its schemas, each with a migrations folder. */
export interface SubgraphDatabaseSpec {
  /** Subgraph name, e.g. `auth`. */
  name: string;
  /** The PostgreSQL role the subgraph logs in as in service mode, e.g. `supergraph_auth`. */
  role: string;
  /** Every schema it owns; migrations of each run inside that schema. */
  schemas: ReadonlyArray<{ schema: string; migrationsDir: string }>;
  /** Extensions created by the admin before migrating (e.g. `pg_trgm`). */
  extensions?: readonly string[];
}

export interface MigrateOptions {
  /** Passwords for the subgraph roles by subgraph name (roles get none when absent: trust/peer auth). */
  rolePasswords?: Readonly<Record<string, string | undefined>>;
  log?: (line: string) => void;
}

export interface MigrateReport {
  /** Whether roles were created (an admin connection to a real PostgreSQL). */
  rolesManaged: boolean;
  applied: Array<{ schema: string; migration: string }>;
}

/**
 * Applies every subgraph's migrations into its own schema. With an admin
 * connection (superuser or CREATEROLE) it first creates one login role per
 * subgraph, makes it the owner of that subgraph's schemas and runs the
 * migrations as that role, so the tables belong to it and to nobody else.
 */
export async function migrateAll(
  target: DatabaseTarget,
  specs: readonly SubgraphDatabaseSpec[],
  options: MigrateOptions = {},
): Promise<MigrateReport> {
  const log = options.log ?? (() => {});
  const report: MigrateReport = { rolesManaged: false, applied: [] };
  if (target.kind === 'postgres') {
    const admin = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: target.url, max: 1 }) }),
    });
    try {
      report.rolesManaged = await canManageRoles(admin);
      for (const spec of specs) {
        for (const extension of spec.extensions ?? []) {
          await sql.raw(`create extension if not exists ${quoteIdent(extension)} with schema public`).execute(admin);
        }
        if (report.rolesManaged) await ensureRole(admin, spec, options.rolePasswords?.[spec.name]);
        for (const { schema } of spec.schemas) {
          const owner = report.rolesManaged ? ` authorization ${quoteIdent(spec.role)}` : '';
          await sql.raw(`create schema if not exists ${quoteIdent(schema)}${owner}`).execute(admin);
        }
      }
    } finally {
      await admin.destroy();
    }
  } else {
    for (const spec of specs) {
      for (const extension of spec.extensions ?? []) {
        await target.pglite.exec(`create extension if not exists ${quoteIdent(extension)}`);
      }
      for (const { schema } of spec.schemas) {
        await target.pglite.exec(`create schema if not exists ${quoteIdent(schema)}`);
      }
    }
  }

  for (const spec of specs) {
    for (const { schema, migrationsDir } of spec.schemas) {
      const database = createDatabase<unknown>(target, {
        schema,
        poolMax: 1,
        statementTimeoutMs: 0,
        ...(report.rolesManaged ? { setRole: spec.role } : {}),
      });
      try {
        const migrator = new Migrator({
          db: database.db,
          provider: new FileMigrationProvider({ fs, path, migrationFolder: migrationsDir }),
          migrationTableSchema: schema,
        });
        const { error, results } = await migrator.migrateToLatest();
        for (const result of results ?? []) logResult(log, schema, result, report);
        if (error) {
          throw new Error(
            `migrating schema ${schema} failed: ${error instanceof Error ? error.message : String(error)}`,
            {
              cause: error,
            },
          );
        }
      } finally {
        await database.close();
      }
    }
  }
  return report;
}

function logResult(log: (line: string) => void, schema: string, result: MigrationResult, report: MigrateReport): void {
  if (result.status === 'Success') report.applied.push({ schema, migration: result.migrationName });
  log(`[migrate] ${schema}: ${result.migrationName} ${result.status.toLowerCase()}`);
}

async function canManageRoles(admin: Kysely<unknown>): Promise<boolean> {
  const { rows } = await sql<{ allowed: boolean }>`
    select (rolsuper or rolcreaterole) as allowed from pg_roles where rolname = current_user
  `.execute(admin);
  return rows[0]?.allowed === true;
}

async function ensureRole(admin: Kysely<unknown>, spec: SubgraphDatabaseSpec, password: string | undefined) {
  const role = quoteIdent(spec.role);
  try {
    await sql.raw(`create role ${role} login nosuperuser nocreatedb nocreaterole noinherit`).execute(admin);
  } catch (error) {
    // 42710 duplicate_object: another migrate (or test run) created it first.
    if ((error as { code?: string }).code !== '42710') throw error;
  }
  if (password !== undefined) {
    await sql.raw(`alter role ${role} password '${password.replaceAll("'", "''")}'`).execute(admin);
  }
  // The owner role may be granted to the admin so it can SET ROLE (needed when the admin is not a superuser).
  await sql
    .raw(`grant ${role} to current_user`)
    .execute(admin)
    .catch(() => {});
  for (const { schema } of spec.schemas) {
    await sql
      .raw(`alter schema ${quoteIdent(schema)} owner to ${role}`)
      .execute(admin)
      .catch(() => {});
  }
}
