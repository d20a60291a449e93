import { fileURLToPath } from 'node:url';
import { defineSubgraph } from '@supergraph/kit';
import { seedStorageUnits } from './seed.ts';
import { databaseSpec, startStorageUnitsSubgraph } from './server.ts';

export { databaseSpec, startStorageUnitsSubgraph, typeDefs } from './server.ts';
export type { StorageUnitsDeps } from './server.ts';
export { seedStorageUnits } from './seed.ts';
export type { SeedOptions, SeedReport } from './seed.ts';
export { UNITS } from './units.ts';
export type { StorageUnitDefinition } from './units.ts';

/** The storage-units subgraph: seven specialised units, each its own schema. */
export const storageUnits = defineSubgraph({
  name: 'storage-units',
  description: 'seven specialised units, each its own schema',
  port: 4003,
  database: databaseSpec,
  schemaFile: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
  // Every unit schema runs the same migrations: one (physics) stands for all seven.
  codegen: { context: 'StorageContext', tableSchemas: ['storage_registry', 'physics_unit'] },
  scopes: { user: ['storage:read', 'storage:write'], admin: ['storage:admin'] },
  start: (runtime) => startStorageUnitsSubgraph(runtime, runtime.port, runtime.host),
  seed: (target, options) => seedStorageUnits(target, options),
});
