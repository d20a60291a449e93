import { z } from 'zod';
import { DEFAULT_REDIS_PREFIX, envPrefix, EnvError, nodeEnv, parseEnv, stopOnSignals } from '@supergraph/platform';
import { SUBGRAPHS } from '@supergraph/registry';
import { startCluster } from '../test/cluster/cluster.ts';

/**
 * `npm run start:cluster`: the multi-instance setup the cluster test proves,
 * for people who want to watch it: two gateways and two processes of every
 * subgraph on loopback, sharing the PostgreSQL of `DATABASE_URL` (migrated
 * first, like `npm run migrate`) and the Redis of `REDIS_URL`, behind a
 * round-robin. Prints every URL, prefixes each process's log lines with its
 * instance, and stops everything on Ctrl-C. Needs real PostgreSQL and Redis:
 * separate processes cannot share PGlite or the in-process Redis. The keys
 * (internal pair, auth's signing keys) are fresh at every start and printed
 * nowhere, so sessions do not outlive a restart.
 */
const clusterEnv = z.object({
  NODE_ENV: nodeEnv,
  DATABASE_URL: z.url().optional(),
  REDIS_URL: z.url().optional(),
  REDIS_PREFIX: z.string().min(1).default(DEFAULT_REDIS_PREFIX),
  AUTH_BOOTSTRAP_ADMIN: z.string().min(1).optional(),
  CLUSTER_INSTANCES: z.coerce.number().int().min(1).max(8).default(2),
});

/** `<NAME>_DB_PASSWORD` by subgraph name, as `npm run migrate` sets them on the roles. */
const rolePasswordsEnv = z.object(
  Object.fromEntries(
    SUBGRAPHS.map((subgraph) => [`${envPrefix(subgraph.name)}_DB_PASSWORD`, z.string().min(1).optional()]),
  ),
);

async function main(): Promise<void> {
  const env = parseEnv(clusterEnv);
  if (env.NODE_ENV === 'production')
    throw new EnvError(
      'npm run start:cluster is a development tool; in production run each service (docs/deployment.md).',
    );
  const passwords = parseEnv(rolePasswordsEnv);
  const missing = (['DATABASE_URL', 'REDIS_URL'] as const).filter((name) => !env[name]);
  if (missing.length > 0)
    throw new EnvError(
      `npm run start:cluster needs a real PostgreSQL and Redis shared by every instance; set ${missing.join(' and ')} ` +
        '(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/supergraph REDIS_URL=redis://127.0.0.1:6379).',
    );
  console.log(`[cluster] migrating ${redact(env.DATABASE_URL!)}, then starting ${env.CLUSTER_INSTANCES} of each…`);
  const cluster = await startCluster({
    databaseUrl: env.DATABASE_URL!,
    redisUrl: env.REDIS_URL!,
    redisPrefix: env.REDIS_PREFIX,
    instances: env.CLUSTER_INSTANCES,
    rolePasswords: Object.fromEntries(
      SUBGRAPHS.map((subgraph) => [subgraph.name, passwords[`${envPrefix(subgraph.name)}_DB_PASSWORD`]]),
    ),
    ...(env.AUTH_BOOTSTRAP_ADMIN ? { bootstrapAdmin: env.AUTH_BOOTSTRAP_ADMIN } : {}),
    onLine: (label, line) => console.log(`${label.padEnd(16)} | ${line}`),
  });
  const rows: Array<[string, string]> = [
    ['round-robin (use this)', cluster.url],
    ...cluster.gateways.map((gateway): [string, string] => [gateway.label, gateway.url]),
    ...Object.values(cluster.subgraphs)
      .flat()
      .map((instance): [string, string] => [instance.label, instance.url]),
  ];
  console.log(
    [
      '',
      '[cluster] up. Every instance shares one PostgreSQL and one Redis:',
      ...rows.map(([label, url]) => `  ${label.padEnd(24)} ${url}`),
      '  gateway-N reaches each subgraph through its own balancer: instance N first, another while N is down.',
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  stopOnSignals('cluster', () => cluster.stop());
}

/** The URL without its password, for the log. */
function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

main().catch((error: unknown) => {
  console.error(
    error instanceof EnvError
      ? error.message
      : `[cluster] failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
