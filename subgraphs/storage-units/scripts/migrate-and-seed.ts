/**
 * Migrates and seeds only the storage units (the root `npm run migrate` /
 * `npm run seed` do every subgraph). Uses DATABASE_URL as an admin (creates
 * the role), else the embedded PGlite in PGLITE_DIR.
 *
 * Run: `npm exec -- node subgraphs/storage-units/scripts/migrate-and-seed.ts [--limit N]`
 */
import { migrateAll, openEmbeddedPostgres, type DatabaseTarget } from '@supergraph/db';
import { loadEnv } from '../src/env.ts';
import { databaseSpec, seedStorageUnits } from '../src/index.ts';

const env = loadEnv();
const limitIndex = process.argv.indexOf('--limit');
const limit = limitIndex === -1 ? undefined : Number(process.argv[limitIndex + 1]);
let close = async () => {};
let target: DatabaseTarget;
if (env.DATABASE_URL) {
  target = { kind: 'postgres', url: env.DATABASE_URL };
} else {
  const pglite = await openEmbeddedPostgres(env.PGLITE_DIR);
  target = { kind: 'pglite', pglite };
  close = () => pglite.close();
}
try {
  await migrateAll(target, [databaseSpec], { log: console.log });
  await seedStorageUnits(target, {
    log: console.log,
    ...(limit !== undefined && Number.isFinite(limit) ? { limit } : {}),
  });
} finally {
  await close();
}
