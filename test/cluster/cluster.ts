import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrateAll } from '@supergraph/db';
import type { SubgraphDescriptor } from '@supergraph/kit';
import { envPrefix, generateInternalKeyPair } from '@supergraph/platform';
import { SUBGRAPHS } from '@supergraph/registry';
import { backendOf, startRoundRobin, type RoundRobin } from './round-robin.ts';
import { startServiceProcess, type ServiceProcess } from './service-process.ts';

/** Extra variables for one kind of process: every one (`all`), the gateways, or one subgraph by name. */
export type ClusterEnv = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface ClusterOptions {
  /** Admin URL of the PostgreSQL database the cluster runs on; migrated here first, as `npm run migrate` would. */
  databaseUrl: string;
  redisUrl: string;
  /** `REDIS_PREFIX` of every process (live settings, audit, usage); rate limits count under `<prefix>rl:`. */
  redisPrefix: string;
  /** Instances of each subgraph and gateways; default 2. */
  instances?: number;
  /** `<NAME>_DB_PASSWORD` by subgraph name: set on the roles by the migration and given to that subgraph's processes. */
  rolePasswords?: Readonly<Record<string, string | undefined>>;
  /** `AUTH_BOOTSTRAP_ADMIN`: the username promoted to admin when registered first. */
  bootstrapAdmin?: string;
  /** More variables, by process kind (`all`, `gateway`, or a subgraph's name). */
  env?: ClusterEnv;
  /** Every output line of every process, with its label (`npm run start:cluster` prints them). */
  onLine?: (label: string, line: string) => void;
  /** Migration progress (default: silent). */
  log?: (line: string) => void;
}

/** Two (or more) gateways and instances of every subgraph as separate processes, one PostgreSQL and one Redis. */
export interface Cluster {
  /** The round-robin in front of the gateways: what clients use (`http://127.0.0.1:<port>/graphql`). */
  readonly url: string;
  readonly front: RoundRobin;
  /** `gateways[i]` routes every subgraph through `routes[i]`. */
  readonly gateways: readonly ServiceProcess[];
  /** Instances of each subgraph by name; `subgraphs[name][i]` is side i's home instance. */
  readonly subgraphs: Readonly<Record<string, readonly ServiceProcess[]>>;
  /**
   * Side i's balancer of each subgraph, by name: instance i first, the others
   * only while it refuses connections. Gateway i, and subgraph instance i's
   * own calls (conversation → auth, operations' health checks), go through
   * them, so which instance serves a request is known until one dies.
   */
  readonly routes: ReadonlyArray<Readonly<Record<string, RoundRobin>>>;
  /** Connections side `side`'s balancer of `subgraph` has forwarded to that subgraph's instance `instance` (0-based). */
  connectionsTo(side: number, subgraph: string, instance: number): number;
  /** Every process, gateways last. */
  processes(): ServiceProcess[];
  /** SIGTERM to every process still running (gateways first), closes the balancers and the data directory. */
  stop(): Promise<void>;
}

/** A subgraph's processes are `<name>-1`, `<name>-2`, …; the gateways `gateway-1`, …. */
const labelOf = (name: string, index: number) => `${name}-${index + 1}`;

/** Fresh secrets for one cluster, shared through the environment: the internal key pair and each subgraph's own. */
async function generateSecrets(subgraphs: readonly SubgraphDescriptor[]) {
  const internal = generateInternalKeyPair();
  const own: Record<string, Record<string, string>> = {};
  for (const subgraph of subgraphs) {
    // Descriptors give `.env` values (`'…'` around JSON); the environment takes the raw string.
    own[subgraph.name] = Object.fromEntries(
      Object.entries((await subgraph.secrets?.()) ?? {}).map(([name, value]) => [name, unquote(value)]),
    );
  }
  return { internal, own };
}

function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return JSON.parse(value) as string;
  return value;
}

/**
 * Starts the graph as a deployment would run it, on loopback: migrate once
 * with the admin URL, then `instances` × every registered subgraph (`node
 * subgraphs/<name>/src/main.ts`, each as its own role) and `instances`
 * gateways (`node gateway/src/main.ts`), configured only by environment
 * (ports 0, one internal key pair and one set of auth keys for all, one
 * Redis prefix), behind {@link startRoundRobin} balancers: one rotating in
 * front of the gateways, and per side one preferring that side's instance of
 * each subgraph. Development mode: production would demand TLS to PostgreSQL
 * and forbid the token pacing that lets a person watch a reply stream.
 *
 * @example
 * const cluster = await startCluster({ databaseUrl, redisUrl, redisPrefix: 'cluster:1a2b:' });
 * await fetch(cluster.url, ...);
 * await cluster.stop();
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const count = options.instances ?? 2;
  const rolePasswords = options.rolePasswords ?? {};
  await migrateAll(
    { kind: 'postgres', url: options.databaseUrl },
    SUBGRAPHS.map((subgraph) => subgraph.database),
    { rolePasswords, ...(options.log ? { log: options.log } : {}) },
  );
  const secrets = await generateSecrets(SUBGRAPHS);
  // Development keys and any embedded fallback would land here, never in the repository's .data.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'supergraph-cluster-'));

  const balancers: RoundRobin[] = [];
  const started: ServiceProcess[] = [];
  const stop = async () => {
    const gateways = started.filter((process) => process.label.startsWith('gateway-'));
    await Promise.all(gateways.map((process) => process.stop()));
    await Promise.all(started.filter((process) => !gateways.includes(process)).map((process) => process.stop()));
    await Promise.all(balancers.map((balancer) => balancer.close()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const front = await startRoundRobin({ order: 'rotate' });
    balancers.push(front);
    const routes: Array<Record<string, RoundRobin>> = [];
    for (let side = 0; side < count; side++) {
      const route: Record<string, RoundRobin> = {};
      for (const subgraph of SUBGRAPHS) {
        route[subgraph.name] = await startRoundRobin({ order: 'prefer-first' });
        balancers.push(route[subgraph.name]!);
      }
      routes.push(route);
    }
    const frontUrl = `${front.origin}/graphql`;
    const urlsOf = (side: number) =>
      Object.fromEntries(
        SUBGRAPHS.map((subgraph) => [
          `${envPrefix(subgraph.name)}_URL`,
          `${routes[side]![subgraph.name]!.origin}/graphql`,
        ]),
      );

    const shared: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      REDIS_URL: options.redisUrl,
      REDIS_PREFIX: options.redisPrefix,
      // A cluster runs on the real ones only: a process falling back to PGlite or the in-process Redis would be alone.
      SUPERGRAPH_FORBID_EMBEDDED: '1',
      ...options.env?.['all'],
    };
    const subgraphEnv = (subgraph: SubgraphDescriptor, side: number): Record<string, string> => {
      const prefix = envPrefix(subgraph.name);
      const password = rolePasswords[subgraph.name];
      const own: Record<string, string> = {
        ...shared,
        // The server's address only: each subgraph logs in as its own role, and the admin password stays here.
        DATABASE_URL: withoutPassword(options.databaseUrl),
        ...(password ? { [`${prefix}_DB_PASSWORD`]: password } : {}),
        INTERNAL_TOKEN_PUBLIC_KEY: secrets.internal.publicKeyPem,
        RATE_LIMIT_PREFIX: `${options.redisPrefix}rl:`,
        [`${prefix}_HOST`]: '127.0.0.1',
        [`${prefix}_PORT`]: '0',
        ...secrets.own[subgraph.name],
      };
      if (subgraph.name === 'auth' && options.bootstrapAdmin) own['AUTH_BOOTSTRAP_ADMIN'] = options.bootstrapAdmin;
      if (subgraph.name === 'conversation') {
        own['CONVERSATION_GATEWAY_URL'] = frontUrl;
        own['CONVERSATION_AUTH_URL'] = routes[side]!['auth']!.origin;
      }
      if (subgraph.name === 'operations') Object.assign(own, urlsOf(side), { OPERATIONS_GATEWAY_URL: frontUrl });
      return { ...own, ...options.env?.[subgraph.name] };
    };
    const gatewayEnv = (side: number): Record<string, string> => ({
      ...shared,
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      GATEWAY_INTERNAL_PRIVATE_KEY: secrets.internal.privateKeyPem,
      PERSISTED_DOCUMENTS_MODE: 'allow',
      ...urlsOf(side),
      ...options.env?.['gateway'],
    });

    const start = async (label: string, script: string, env: Record<string, string>) => {
      const service = await startServiceProcess({
        label,
        script,
        env,
        ...(options.onLine ? { onLine: (line: string) => options.onLine!(label, line) } : {}),
      });
      started.push(service);
      return service;
    };
    // All at once: the gateways read a static supergraph and reach no subgraph before the first request.
    const sides = [...Array(count).keys()];
    const [subgraphInstances, gateways] = await Promise.all([
      Promise.all(
        SUBGRAPHS.map(async (subgraph) => {
          const script = path.join(path.dirname(subgraph.schemaFile), 'main.ts');
          return [
            subgraph.name,
            await Promise.all(
              sides.map((side) => start(labelOf(subgraph.name, side), script, subgraphEnv(subgraph, side))),
            ),
          ] as const;
        }),
      ),
      Promise.all(sides.map((side) => start(labelOf('gateway', side), 'gateway/src/main.ts', gatewayEnv(side)))),
    ]);
    const subgraphs = Object.fromEntries(subgraphInstances);
    for (const side of sides) {
      for (const subgraph of SUBGRAPHS) {
        const instances = subgraphs[subgraph.name]!;
        // Side i: its own instance first, then the others in order.
        const ordered = sides.map((offset) => instances[(side + offset) % count]!);
        routes[side]![subgraph.name]!.setBackends(ordered.map((instance) => backendOf(instance.url)));
      }
    }
    front.setBackends(gateways.map((gateway) => backendOf(gateway.url)));
    return {
      url: frontUrl,
      front,
      gateways,
      subgraphs,
      routes,
      // Side s lists instance s first: instance i sits at position (i - s) mod count.
      connectionsTo: (side, subgraph, instance) =>
        routes[side]?.[subgraph]?.connectionsTo((instance - side + count) % count) ?? 0,
      processes: () => [...Object.values(subgraphs).flat(), ...gateways],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
