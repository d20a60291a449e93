import { seedKnowledge } from '@supergraph/knowledge';
import { seedStorageUnits } from '@supergraph/storage-units';
import { migrateAndResolveTargets, openAdminTarget } from './database.ts';
import { env } from './env.ts';

/** `npm run seed`: migrate, then import WordNet into knowledge and the storage units. Idempotent. */
try {
  const admin = await openAdminTarget();
  const { targetFor } = await migrateAndResolveTargets(admin);
  const limit = env.SEED_LIMIT !== undefined ? { limit: env.SEED_LIMIT } : {};
  // Each seeder reports its own progress and per-unit counts.
  const knowledge = await seedKnowledge(targetFor('knowledge'), { log: (line) => console.log(line), ...limit });
  const units = await seedStorageUnits(targetFor('storage-units'), { log: (line) => console.log(line), ...limit });
  console.log(`[seed] done in ${((knowledge.durationMs + units.durationMs) / 1000).toFixed(1)} s`);
  if (admin.kind === 'pglite') await admin.pglite.close();
} catch (error) {
  console.error(`[seed] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
