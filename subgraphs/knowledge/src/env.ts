import { z } from 'zod';
import { flag, nodeEnv, optionalUrl, parseEnv, port } from '@supergraph/kit';

/**
 * Service-mode configuration (`src/main.ts`); the only place that reads
 * `process.env`. See `.env.example` and the README for each variable.
 */
export function loadKnowledgeEnv(source: NodeJS.ProcessEnv = process.env) {
  return parseEnv(
    z.object({
      NODE_ENV: nodeEnv,
      KNOWLEDGE_PORT: port(4002),
      KNOWLEDGE_HOST: z.string().default('127.0.0.1'),
      DATABASE_URL: optionalUrl,
      KNOWLEDGE_DB_PASSWORD: z.string().optional(),
      REDIS_URL: optionalUrl,
      /** PEM (SPKI) of the gateway's internal-token public key. */
      INTERNAL_TOKEN_PUBLIC_KEY: z.string().min(1),
      SUPERGRAPH_FORBID_EMBEDDED: flag(false),
      PGLITE_DIR: z.string().default('.data/pglite'),
      /** e.g. `pro=5,enterprise=20`. */
      RATE_LIMIT_TIER_MULTIPLIERS: z.string().optional(),
      /** e.g. `Query.searchKnowledge=30/1h,Query.askKnowledge=20/1h,Mutation.ingestKnowledge=5/1h`. */
      KNOWLEDGE_RATE_LIMITS: z.string().optional(),
      KNOWLEDGE_SEARCH_CANDIDATE_CAP: z.coerce.number().int().min(20).max(1_000_000).default(1000),
    }),
    source,
  );
}

export type KnowledgeEnv = ReturnType<typeof loadKnowledgeEnv>;
