/**
 * How long a full WordNet seed of the knowledge subgraph takes, and how long a
 * second (idempotent) run takes. Real PostgreSQL when DATABASE_URL is set (a
 * throw-away `test_<random>` database), in-memory PGlite otherwise.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm exec -- node test/bench/knowledge-seed.bench.ts
 *   npm exec -- node test/bench/knowledge-seed.bench.ts          # PGlite
 */
import { createTestDatabase, migrateAll } from '@supergraph/db';
import { databaseSpec, seedKnowledge } from '@supergraph/knowledge';

const database = await createTestDatabase(process.env['DATABASE_URL']);
const engine = database.target.kind === 'postgres' ? 'PostgreSQL' : 'PGlite (in memory)';
try {
  await migrateAll(database.target, [databaseSpec]);
  const limit = process.env['SEED_LIMIT'] ? Number(process.env['SEED_LIMIT']) : undefined;
  const first = await seedKnowledge(database.target, { log: console.log, ...(limit ? { limit } : {}) });
  const second = await seedKnowledge(database.target, { log: console.log, ...(limit ? { limit } : {}) });
  console.log(
    `\n${engine}: full seed ${(first.durationMs / 1000).toFixed(1)} s for ${first.added} entries ` +
      `(${Math.round(first.added / (first.durationMs / 1000))}/s); second run ${(second.durationMs / 1000).toFixed(2)} s, added ${second.added}`,
  );
  console.log(
    'rerun: DATABASE_URL=… npm exec -- node test/bench/knowledge-seed.bench.ts   (unset DATABASE_URL for PGlite)',
  );
} finally {
  await database.drop();
}
