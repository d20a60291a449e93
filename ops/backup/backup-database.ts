import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SubgraphDatabaseSpec } from '@supergraph/db';
import pg from 'pg';
import { sha256File, writeManifest, MANIFEST_FORMAT, type Manifest, type ManifestSchemaEntry } from './manifest.ts';
import { databaseName, redactUrl, spawnPgTool, toolVersion, waitForExit, type PgConnection } from './pg-tools.ts';
import { PARTIAL_SUFFIX, backupName } from './retention.ts';
import { schemaStats, useStableTextOutput } from './table-stats.ts';

export interface BackupOptions extends PgConnection {
  /** Every subgraph's database spec (the registry's): whose schemas are dumped, in this order. */
  specs: readonly SubgraphDatabaseSpec[];
  /** The directory holding one sub-directory per backup. */
  directory: string;
  /** zlib level of the archives, 0–9. */
  compression: number;
  log?: (line: string) => void;
  /** Start time (the directory's name); now by default. */
  now?: Date;
}

export interface BackupResult {
  /** The complete backup's directory. */
  directory: string;
  manifest: Manifest;
}

/**
 * Dumps every registered schema into its own compressed custom-format archive
 * (`pg_dump --format=custom --schema=<schema>`) in a new directory named by
 * the start time, plus a manifest. All dumps and the manifest's row counts and
 * checksums read one exported snapshot, so the schemas are consistent with
 * each other and the manifest describes exactly what was written, while the
 * services keep serving. The directory is `<name>.partial` until everything is
 * written, and removed if anything fails.
 */
export async function backupDatabase(options: BackupOptions): Promise<BackupResult> {
  const log = options.log ?? (() => {});
  const started = options.now ?? new Date();
  const name = backupName(started);
  const partial = path.join(options.directory, `${name}${PARTIAL_SUFFIX}`);
  const final = path.join(options.directory, name);
  const client = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`cannot connect to ${redactUrl(options.url)}: ${messageOf(error)}`, { cause: error });
  }
  let created = false;
  try {
    const pgDumpVersion = await toolVersion(options, 'pg_dump');
    await fs.mkdir(options.directory, { recursive: true, mode: 0o700 });
    await fs.mkdir(partial, { mode: 0o700 });
    created = true;
    // The snapshot stays valid while this transaction is open; pg_dump --snapshot reads it.
    await client.query('begin isolation level repeatable read read only');
    await useStableTextOutput(client);
    const { rows } = await client.query<{ snapshot: string; version: string }>(
      `select pg_export_snapshot() as snapshot, current_setting('server_version') as version`,
    );
    const { snapshot, version } = rows[0]!;
    const present = new Set(
      (await client.query<{ name: string }>('select nspname as name from pg_namespace')).rows.map((row) => row.name),
    );
    log(`[backup] ${redactUrl(options.url)} (PostgreSQL ${version}) → ${final}`);

    const schemas: ManifestSchemaEntry[] = [];
    for (const spec of options.specs) {
      for (const { schema } of spec.schemas) {
        if (!present.has(schema)) throw new Error(`schema ${schema} (${spec.name}) does not exist: run the migrations`);
        const file = `${schema}.dump`;
        const target = path.join(partial, file);
        const schemaStarted = Date.now();
        const dump = spawnPgTool(options, 'pg_dump', [
          '--format=custom',
          `--compress=${options.compression}`,
          `--schema=${schema}`,
          `--snapshot=${snapshot}`,
          `--file=${target}`,
        ]);
        await waitForExit(dump, 'pg_dump');
        const tables = await schemaStats(client, schema);
        const bytes = (await fs.stat(target)).size;
        schemas.push({
          schema,
          subgraph: spec.name,
          role: spec.role,
          file,
          bytes,
          sha256: await sha256File(target),
          tables,
        });
        const rowCount = tables.reduce((sum, table) => sum + table.rows, 0);
        log(
          `[backup] ${schema}: ${tables.length} table(s), ${rowCount} row(s), ${formatBytes(bytes)} ` +
            `in ${Date.now() - schemaStarted} ms`,
        );
      }
    }
    await client.query('commit');

    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      createdAt: started.toISOString(),
      database: databaseName(options.url),
      server: serverOf(options.url),
      serverVersion: version,
      tools: { pg_dump: pgDumpVersion, node: process.version },
      compression: options.compression,
      extensions: [...new Set(options.specs.flatMap((spec) => spec.extensions ?? []))],
      durationMs: Date.now() - started.getTime(),
      schemas,
    };
    await writeManifest(partial, manifest);
    await fs.rename(partial, final);
    log(`[backup] done: ${schemas.length} schema(s) in ${manifest.durationMs} ms`);
    return { directory: final, manifest };
  } catch (error) {
    if (created) await fs.rm(partial, { recursive: true, force: true });
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

function serverOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  return error instanceof Error ? error.message || error.constructor.name : String(error);
}
