export { databaseSpec, startStorageUnitsSubgraph, typeDefs } from './server.ts';
export type { StorageUnitsDeps } from './server.ts';
export { seedStorageUnits } from './seed.ts';
export type { SeedOptions, SeedReport } from './seed.ts';
export { UNITS } from './units.ts';
export type { StorageUnitDefinition } from './units.ts';
