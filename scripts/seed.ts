import { SUBGRAPHS, subgraphNamed } from '@supergraph/registry';
import { migrateAndResolveTargets, openAdminTarget, seedAll } from './database.ts';

/**
 * `npm run seed [-- <subgraph>…]`: migrate, then run every subgraph's seeder
 * (or only the named ones). Idempotent.
 */
try {
  const names = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const subgraphs = names.length > 0 ? names.map(subgraphNamed) : SUBGRAPHS;
  const admin = await openAdminTarget();
  const { targetFor } = await migrateAndResolveTargets(admin);
  const durationMs = await seedAll(targetFor, subgraphs);
  console.log(`[seed] done in ${(durationMs / 1000).toFixed(1)} s`);
  if (admin.kind === 'pglite') await admin.pglite.close();
} catch (error) {
  console.error(`[seed] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
