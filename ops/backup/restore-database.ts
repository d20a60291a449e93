import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { migrateAll, quoteIdent, type SubgraphDatabaseSpec } from '@supergraph/db';
import pg from 'pg';
import { formatBytes, messageOf } from './backup-database.ts';
import { readManifest, sha256File, type Manifest } from './manifest.ts';
import { databaseName, redactUrl, spawnPgTool, urlForDatabase, waitForExit, type PgConnection } from './pg-tools.ts';
import { compareStats, schemaStats, useStableTextOutput } from './table-stats.ts';

export interface RestoreOptions extends PgConnection {
  /** The registry's database specs: the roles to own what is restored, and the migrations to apply after. */
  specs: readonly SubgraphDatabaseSpec[];
  /** A backup directory (the one holding `manifest.json`). */
  backup: string;
  /** Drop the backup's schemas first when they exist (in the same transaction as the restore). */
  clean?: boolean;
  /** Create the database of `url` when it does not exist (connecting to the server's `postgres` database). */
  createDatabase?: boolean;
  /** `<NAME>_DB_PASSWORD` by subgraph name, for roles the restore creates. */
  rolePasswords?: Readonly<Record<string, string | undefined>>;
  log?: (line: string) => void;
}

export interface RestoreResult {
  manifest: Manifest;
  /** Whether objects kept their subgraph roles as owners (false: the connecting user owns them). */
  ownersKept: boolean;
  /** Migrations newer than the backup, applied after the restore. */
  migrationsApplied: number;
}

/**
 * Restores a backup made by {@link backupDatabase} into the database of
 * `url`, all or nothing:
 *
 * 1. the manifest is read and every archive's sha256 checked, before anything changes;
 * 2. the subgraph roles and extensions are ensured by the migrator (roles live
 *    outside any database, so a new server lacks them);
 * 3. every schema's archive is turned into SQL by `pg_restore` and streamed
 *    into one `psql` transaction (with `--clean`, after dropping the schemas in
 *    that same transaction), so a failure leaves the database as it was;
 * 4. every table's row count and checksum are compared with the manifest;
 * 5. the migrator runs as after any deploy: ownership re-applied, migrations
 *    newer than the backup applied.
 *
 * Owners are kept: each object goes back to its subgraph's role. Only when the
 * connection may not manage roles (migrate would not create them either) is it
 * restored `--no-owner`, owned by the connecting user, which is then what the
 * subgraphs connect as.
 */
export async function restoreDatabase(options: RestoreOptions): Promise<RestoreResult> {
  const log = options.log ?? (() => {});
  const manifest = await readManifest(options.backup);
  const known = new Map(options.specs.flatMap((spec) => spec.schemas.map(({ schema }) => [schema, spec] as const)));
  for (const entry of manifest.schemas) {
    const spec = known.get(entry.schema);
    if (!spec) throw new Error(`the backup holds schema ${entry.schema}, which no registered subgraph owns`);
    const archive = path.join(options.backup, entry.file);
    const actual = await sha256File(archive).catch(() => undefined);
    if (actual === undefined) throw new Error(`${archive} is missing`);
    if (actual !== entry.sha256) throw new Error(`${archive} is damaged: its sha256 differs from the manifest`);
  }
  log(`[restore] ${options.backup} (${manifest.createdAt}, ${manifest.schemas.length} schema(s)): archives intact`);

  if (options.createDatabase) await ensureDatabase(options.url, log);
  const client = await connect(options.url);
  try {
    const existing = await existingSchemas(
      client,
      manifest.schemas.map((entry) => entry.schema),
    );
    if (existing.length > 0 && !options.clean) {
      throw new Error(
        `schema(s) ${existing.join(', ')} already exist in ${databaseName(options.url)}; ` +
          'stop the services and pass --clean to replace them',
      );
    }

    // Roles and extensions first, through the migrator's own code (no schema is created: `schemas: []`).
    const inBackup = options.specs.filter((spec) =>
      spec.schemas.some(({ schema }) => manifest.schemas.some((entry) => entry.schema === schema)),
    );
    const { rolesManaged } = await migrateAll(
      { kind: 'postgres', url: options.url },
      inBackup.map((spec) => ({ ...spec, schemas: [] })),
      { rolePasswords: options.rolePasswords ?? {} },
    );
    if (!rolesManaged) log('[restore] this connection may not manage roles: objects restored --no-owner');

    await streamIntoOneTransaction(options, manifest, existing, rolesManaged, log);
    log('[restore] committed');

    await client.query('begin isolation level repeatable read read only');
    await useStableTextOutput(client);
    const problems: string[] = [];
    for (const entry of manifest.schemas) {
      const mismatches = compareStats(entry.tables, await schemaStats(client, entry.schema));
      problems.push(...mismatches.map((problem) => `${entry.schema}.${problem}`));
      if (mismatches.length === 0) log(`[restore] ${entry.schema}: ${entry.tables.length} table(s) match the manifest`);
    }
    await client.query('commit');
    if (problems.length > 0) {
      throw new Error(`the restored tables differ from the manifest:\n  ${problems.join('\n  ')}`);
    }

    const report = await migrateAll({ kind: 'postgres', url: options.url }, options.specs, {
      rolePasswords: options.rolePasswords ?? {},
      log: (line) => log(line.replace(/^\[migrate\]/, '[restore] migrate')),
    });
    log(`[restore] done: ${manifest.schemas.length} schema(s); ${report.applied.length} newer migration(s) applied`);
    return { manifest, ownersKept: rolesManaged, migrationsApplied: report.applied.length };
  } finally {
    await client.end().catch(() => {});
  }
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    throw new Error(`cannot connect to ${redactUrl(url)}: ${messageOf(error)}`, { cause: error });
  }
}

async function ensureDatabase(url: string, log: (line: string) => void): Promise<void> {
  const name = databaseName(url);
  const client = await connect(urlForDatabase(url, 'postgres'));
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount) return;
    await client.query(`create database ${quoteIdent(name)}`);
    log(`[restore] created database ${name}`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function existingSchemas(client: pg.Client, schemas: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    'select nspname as name from pg_namespace where nspname = any($1::text[]) order by nspname',
    [schemas],
  );
  return rows.map((row) => row.name);
}

/** `pg_restore --file=-` of each archive, in the manifest's order, piped into one psql transaction. */
async function streamIntoOneTransaction(
  options: RestoreOptions,
  manifest: Manifest,
  existing: readonly string[],
  rolesManaged: boolean,
  log: (line: string) => void,
): Promise<void> {
  const psql = spawnPgTool(options, 'psql', ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--file=-']);
  const psqlExit = waitForExit(psql, 'psql');
  const stdin = psql.stdin!;
  // psql may exit (an error) while we still write: its exit code says why, not the EPIPE.
  stdin.on('error', () => {});
  const write = (text: string) => new Promise<void>((resolve) => stdin.write(text, () => resolve()));
  let current: ChildProcess | undefined;
  try {
    await write('begin;\n');
    if (existing.length > 0) log(`[restore] dropping ${existing.join(', ')} (--clean)`);
    for (const schema of existing) await write(`drop schema ${quoteIdent(schema)} cascade;\n`);
    for (const entry of manifest.schemas) {
      const rows = entry.tables.reduce((sum, table) => sum + table.rows, 0);
      log(`[restore] ${entry.schema}: ${entry.tables.length} table(s), ${rows} row(s), ${formatBytes(entry.bytes)}`);
      current = spawnPgTool(
        options,
        'pg_restore',
        [...(rolesManaged ? [] : ['--no-owner', '--no-privileges']), '--file=-', path.join(options.backup, entry.file)],
        { connect: false },
      );
      const restored = waitForExit(current, 'pg_restore', { collectStdout: false });
      current.stdout!.pipe(stdin, { end: false });
      await Promise.race([restored, psqlExit.then(() => Promise.reject(new Error('psql ended before the commit')))]);
      current = undefined;
    }
    await write('commit;\n');
    stdin.end();
    await psqlExit;
  } catch (error) {
    // psql's input closed without a commit: the server rolls the whole transaction back.
    current?.kill('SIGTERM');
    psql.kill('SIGTERM');
    await psqlExit.catch(() => {});
    throw new Error(`restore rolled back, nothing changed: ${messageOf(error)}`, { cause: error });
  }
}
