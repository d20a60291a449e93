import { z } from 'zod';
import { flag, nodeEnv, optionalUrl, parseEnv, port } from '@supergraph/platform';

/**
 * Configuration of the all-in-one launcher (`npm start`), `npm run migrate`
 * and `npm run seed`. Each subgraph's own variables (`<NAME>_PORT`,
 * `<NAME>_DB_PASSWORD`, …) are read through its descriptor.
 */
export const env = parseEnv(
  z.object({
    NODE_ENV: nodeEnv,
    HOST: z.string().default('127.0.0.1'),
    DATABASE_URL: optionalUrl,
    REDIS_URL: optionalUrl,
    SUPERGRAPH_FORBID_EMBEDDED: flag(),
    DATA_DIR: z.string().default('.data'),
    GATEWAY_PORT: port(4000),
    SEED_ON_START: flag(true),
    /** Every seeder imports only the first N WordNet synsets. */
    SEED_LIMIT: z.coerce.number().int().positive().optional(),
  }),
);
