/**
 * Ours: `startGateway` as production runs it, minus what a benchmark of the
 * graph cannot exercise: anonymous (no auth options, no credential
 * subgraph), no budgets (no Redis), operation limits raised above TestQuery
 * (depth 8, cost ~10^6 with the default list size), and an internal-token key
 * made in process (every subgraph fetch is still signed). Argv: the supergraph
 * file, then `--executor=apollo` for `@apollo/gateway`'s executor instead of
 * ours; BENCH_OURS_OPTIONS: JSON merged into the options (e.g. a switch under test).
 */
import { readFileSync } from 'node:fs';
import { startGateway } from '@supergraph/gateway';
import { generateInternalKeyPair, importInternalSigningKey } from '@supergraph/platform';
import { announce, stopWithParent } from '../child.mts';

const supergraphSdl = readFileSync(process.argv[2]!, 'utf8');
const gateway = await startGateway(
  {
    supergraphSdl,
    internalTokenKey: await importInternalSigningKey(generateInternalKeyPair().privateKeyPem),
    production: true,
    credentials: null,
    operationLimits: {
      maxDepth: 100,
      maxAliases: 1_000,
      maxRootFields: 1_000,
      maxDirectives: 1_000,
      maxTokens: 100_000,
      maxCost: 1_000_000_000,
    },
    ...(process.argv.includes('--executor=apollo') ? { executor: 'apollo' as const } : {}),
    ...(JSON.parse(process.env['BENCH_OURS_OPTIONS'] || '{}') as object),
  },
  0,
);
stopWithParent(() => gateway.stop());
announce(gateway.url);
