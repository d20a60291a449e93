import { z } from 'zod';
import { flag, nodeEnv, optionalUrl, parseEnv, port } from '@supergraph/kit';

/** Configuration of the all-in-one launcher (`npm start`), `npm run migrate` and `npm run seed`. */
export const env = parseEnv(
  z.object({
    NODE_ENV: nodeEnv,
    HOST: z.string().default('127.0.0.1'),
    DATABASE_URL: optionalUrl,
    REDIS_URL: optionalUrl,
    SUPERGRAPH_FORBID_EMBEDDED: flag(),
    DATA_DIR: z.string().default('.data'),
    GATEWAY_PORT: port(4000),
    AUTH_PORT: port(4001),
    KNOWLEDGE_PORT: port(4002),
    STORAGE_UNITS_PORT: port(4003),
    SEED_ON_START: flag(true),
    SEED_LIMIT: z.coerce.number().int().positive().optional(),
    /** Redis key prefix of every rate-limit counter (separates installs sharing one Redis). */
    RATE_LIMIT_PREFIX: z.string().min(1).optional(),
    AUTH_DB_PASSWORD: z.string().optional(),
    KNOWLEDGE_DB_PASSWORD: z.string().optional(),
    STORAGE_UNITS_DB_PASSWORD: z.string().optional(),
  }),
);
