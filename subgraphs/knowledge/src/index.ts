import { fileURLToPath } from 'node:url';
import { defineSubgraph } from '@supergraph/kit';
import { checkEnv } from '@supergraph/platform';
import { z } from 'zod';
import { databaseSpec, startKnowledgeSubgraph } from './server.ts';
import { seedKnowledge } from './seed.ts';

export { databaseSpec, DEFAULT_SEARCH_SETTINGS, startKnowledgeSubgraph, typeDefs } from './server.ts';
export type { KnowledgeDeps } from './server.ts';
export { seedKnowledge, WORDNET_SOURCE } from './seed.ts';
export type { SeedKnowledgeOptions, SeedKnowledgeReport } from './seed.ts';

const knowledgeEnv = z.object({
  KNOWLEDGE_SEARCH_CANDIDATE_CAP: z.coerce.number().int().min(20).max(1_000_000).default(1000),
});

/** The knowledge subgraph: entries, the WordNet corpus, ranked full-text search. */
export const knowledge = defineSubgraph({
  name: 'knowledge',
  description: 'knowledge entries, WordNet corpus, ranked full-text search',
  port: 4002,
  database: databaseSpec,
  schemaFile: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
  codegen: { context: 'KnowledgeContext', tableSchemas: ['knowledge'] },
  scopes: { user: ['knowledge:read', 'knowledge:write'], admin: ['knowledge:admin'] },
  configure: (env) => {
    const { data, problems } = checkEnv(knowledgeEnv, env);
    return data ? { config: { candidateCap: data.KNOWLEDGE_SEARCH_CANDIDATE_CAP } } : { problems };
  },
  start: (runtime, search) => startKnowledgeSubgraph({ ...runtime, search }, runtime.port, runtime.host),
  seed: (target, options) => seedKnowledge(target, options),
});
