export { createDatabase, quoteIdent, urlForRole } from './connection.ts';
export type { Database, DatabaseOptions, DatabaseTarget } from './connection.ts';
export { openEmbeddedPostgres } from './embedded.ts';
export { migrateAll } from './migrate.ts';
export type { MigrateOptions, MigrateReport, SubgraphDatabaseSpec } from './migrate.ts';
export { PgliteDialect } from './pglite-dialect.ts';
export { createTestDatabase } from './test-database.ts';
export type { TestDatabase } from './test-database.ts';
export type { TablesMatch } from './table-sync.ts';
