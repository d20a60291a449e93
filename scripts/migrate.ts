import { migrateAndResolveTargets, openAdminTarget } from './database.ts';

/** `npm run migrate`: roles (when the connection may create them), schemas, then every subgraph's migrations. */
try {
  const target = await openAdminTarget();
  const { report } = await migrateAndResolveTargets(target);
  console.log(
    `[migrate] done: ${report.applied.length} migration(s) applied; ` +
      (report.rolesManaged ? 'one role per subgraph.' : 'roles not managed (embedded or non-admin connection).'),
  );
  if (target.kind === 'pglite') await target.pglite.close();
} catch (error) {
  console.error(`[migrate] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
