export { databaseSpec, DEFAULT_SEARCH_SETTINGS, startKnowledgeSubgraph, typeDefs } from './server.ts';
export type { KnowledgeDeps, RunningSubgraph } from './server.ts';
export { seedKnowledge, WORDNET_SOURCE } from './seed.ts';
export type { SeedKnowledgeOptions, SeedKnowledgeReport } from './seed.ts';
