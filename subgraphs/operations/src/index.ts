import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineSubgraph } from '@supergraph/kit';
import { parse } from 'graphql';
import { z } from 'zod';
import { checkEnv, envPrefix, repoPath, subgraphsOf } from '@supergraph/platform';
import { DEFAULT_OPERATIONS_CONFIG, databaseSpec, startOperationsSubgraph, type OperationsConfig } from './server.ts';

export {
  contextFor,
  createOperationsApp,
  databaseSpec,
  DEFAULT_OPERATIONS_CONFIG,
  packageVersion,
  startOperationsSubgraph,
  typeDefs,
} from './server.ts';
export type { OperationsApp, OperationsDeps, OperationsConfig, RunningOperations } from './server.ts';
export { pruneExpired } from './pruner.ts';
export { serviceTargets, GATEWAY_SERVICE, type ServiceTarget } from './service-targets.ts';

const httpUrl = z.url().refine((value) => /^https?:\/\//i.test(value), 'must be an http or https URL');

const operationsEnv = z.object({
  NODE_ENV: z.string().optional(),
  SUPERGRAPH_PATH: z.string().min(1).optional(),
  OPERATIONS_GATEWAY_URL: httpUrl.optional(),
  GATEWAY_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  OPERATIONS_USAGE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  OPERATIONS_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  DATA_DIR: z.string().min(1).default('.data'),
});

/**
 * `<NAME>_URL` of every subgraph the supergraph names, as the gateway reads
 * them: operations checks each service where the gateway reaches it.
 */
function subgraphUrlOverrides(
  supergraphPath: string,
  env: NodeJS.ProcessEnv,
): { urls: Record<string, string>; problems: string[] } {
  if (!existsSync(supergraphPath))
    return { urls: {}, problems: [`SUPERGRAPH_PATH: ${supergraphPath} is missing (run \`npm run compose\`)`] };
  const urls: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of subgraphsOf(parse(readFileSync(supergraphPath, 'utf8'))).keys()) {
    const variable = `${envPrefix(name)}_URL`;
    const value = env[variable]?.trim();
    if (!value) continue;
    if (httpUrl.safeParse(value).success) urls[name] = value;
    else problems.push(`${variable}: not an http or https URL`);
  }
  return { urls, problems };
}

/** The operations subgraph: system status, service health, metrics, live settings, the audit log, usage. */
export const operations = defineSubgraph<Partial<OperationsConfig>>({
  name: 'operations',
  description: 'system status, service health and metrics, live settings, audit log, usage',
  port: 4005,
  database: databaseSpec,
  schemaFile: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
  codegen: { context: 'OperationsContext', tableSchemas: ['operations'] },
  // Both admin-only: service URLs, versions, IPs and other users' activity are for operators.
  scopes: { admin: ['ops:read', 'ops:admin'] },
  configure: (env) => {
    const { data, problems } = checkEnv(operationsEnv, env);
    if (!data) return { problems };
    const supergraphPath = data.SUPERGRAPH_PATH
      ? repoPath(data.SUPERGRAPH_PATH)
      : DEFAULT_OPERATIONS_CONFIG.supergraphPath;
    const overrides = subgraphUrlOverrides(supergraphPath, env);
    if (overrides.problems.length > 0) return { problems: overrides.problems };
    return {
      config: {
        supergraphPath,
        subgraphUrls: overrides.urls,
        gatewayUrl:
          data.OPERATIONS_GATEWAY_URL ??
          (data.GATEWAY_PORT ? `http://127.0.0.1:${data.GATEWAY_PORT}/graphql` : DEFAULT_OPERATIONS_CONFIG.gatewayUrl),
        retention: {
          usageDays: data.OPERATIONS_USAGE_RETENTION_DAYS,
          auditDays: data.OPERATIONS_AUDIT_RETENTION_DAYS,
        },
        environment: data.NODE_ENV || 'development',
        dataDir: repoPath(data.DATA_DIR),
      },
    };
  },
  start: (runtime, config) => startOperationsSubgraph({ ...runtime, config }, runtime.port, runtime.host),
});
