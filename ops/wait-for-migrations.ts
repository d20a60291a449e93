import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { quoteIdent, urlForRole } from '@supergraph/db';
import { envPrefix, EnvError, parseEnv } from '@supergraph/platform';
import { subgraphNamed } from '@supergraph/registry';
import pg from 'pg';
import { z } from 'zod';

/**
 * The Kubernetes Deployments' init container (`ops/k8s/base`): waits until
 * every migration this image ships for one subgraph is recorded in that
 * subgraph's schemas, i.e. until the migrate Job of this release has run, then
 * exits 0. It checks the schema version rather than the Job's status so a pod
 * of a new image never starts on the previous release's tables (an old,
 * completed Job would satisfy a status check), and it needs no Kubernetes API
 * access. It logs in as the subgraph's own role, which owns its migration
 * tables, so it holds no admin credential.
 *
 * @example
 * node ops/wait-for-migrations.ts knowledge   # DATABASE_URL, KNOWLEDGE_DB_PASSWORD from the environment
 */
const name = process.argv[2];
if (!name) {
  console.error('usage: node ops/wait-for-migrations.ts <subgraph>');
  process.exit(2);
}

try {
  const subgraph = subgraphNamed(name);
  const env = parseEnv(
    z.object({
      DATABASE_URL: z.url(),
      MIGRATIONS_WAIT_SECONDS: z.coerce.number().int().min(1).default(600),
      MIGRATIONS_POLL_SECONDS: z.coerce.number().int().min(1).default(2),
    }),
  );
  const passwordVariable = `${envPrefix(subgraph.name)}_DB_PASSWORD`;
  const password = parseEnv(z.object({ [passwordVariable]: z.string().optional() }))[passwordVariable];
  const url = urlForRole(env.DATABASE_URL, subgraph.database.role, password || undefined);
  const expected = await Promise.all(
    subgraph.database.schemas.map(async ({ schema, migrationsDir }) => ({
      schema,
      names: await migrationNames(migrationsDir),
    })),
  );
  const deadline = Date.now() + env.MIGRATIONS_WAIT_SECONDS * 1000;
  let last = '';
  for (;;) {
    const status = await pendingMigrations(url, expected).catch((error: unknown) => ({
      error: error instanceof Error ? error.message : String(error),
    }));
    if (Array.isArray(status) && status.length === 0) {
      console.log(`[wait-for-migrations] ${name}: every migration is applied`);
      process.exit(0);
    }
    const line = Array.isArray(status) ? `waiting for ${status.join(', ')}` : `cannot check yet (${status.error})`;
    if (line !== last) console.log(`[wait-for-migrations] ${name}: ${line}`);
    last = line;
    if (Date.now() > deadline) {
      console.error(`[wait-for-migrations] ${name}: gave up after ${env.MIGRATIONS_WAIT_SECONDS} s: ${line}`);
      process.exit(1);
    }
    await sleep(env.MIGRATIONS_POLL_SECONDS * 1000);
  }
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(error instanceof EnvError ? message : `[wait-for-migrations] ${message}`);
  process.exit(1);
}

/** The migration names Kysely's `FileMigrationProvider` derives from a folder: file names without their extension. */
async function migrationNames(directory: string): Promise<string[]> {
  const files = await readdir(directory);
  return files
    .filter((file) => /\.(ts|js|mts|mjs)$/.test(file) && !/\.d\.[mc]?ts$/.test(file))
    .map((file) => file.slice(0, file.lastIndexOf('.')))
    .sort();
}

/** `<schema>.<migration>` of every expected migration not yet recorded (a missing table means none is). */
async function pendingMigrations(
  url: string,
  expected: ReadonlyArray<{ schema: string; names: readonly string[] }>,
): Promise<string[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const pending: string[] = [];
    for (const { schema, names } of expected) {
      let applied = new Set<string>();
      try {
        const { rows } = await client.query<{ name: string }>(
          `select name from ${quoteIdent(schema)}.kysely_migration`,
        );
        applied = new Set(rows.map((row) => row.name));
      } catch (error) {
        // 42P01 undefined_table, 3F000 invalid_schema_name: not migrated at all yet.
        if (!['42P01', '3F000'].includes((error as { code?: string }).code ?? '')) throw error;
      }
      for (const migration of names) if (!applied.has(migration)) pending.push(`${schema}.${migration}`);
    }
    return pending;
  } finally {
    await client.end();
  }
}
