import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics: one `prom-client` registry per process, so a process
 * that runs several services (`npm start`, the tests) still answers one
 * `/metrics` with every service told apart by its `service` label. Metric
 * objects are created on first use, once per process; the names follow the
 * Prometheus conventions (`_total` counters, `_seconds` histograms).
 *
 * @example
 * metrics.graphqlRequests.inc({ service: 'auth', operation: operationLabel('Login'), type: 'mutation', status: 'ok' });
 */
export interface Metrics {
  readonly registry: Registry;
  /** `graphql_requests_total{service,operation,type,status}`: one per GraphQL request, `status` = `ok` | `error`. */
  readonly graphqlRequests: Counter<'service' | 'operation' | 'type' | 'status'>;
  /** `graphql_request_duration_seconds{service,operation,type}`. */
  readonly graphqlRequestDuration: Histogram<'service' | 'operation' | 'type'>;
  /** `graphql_errors_total{service,code}`: one per error in a response, by `extensions.code`. */
  readonly graphqlErrors: Counter<'service' | 'code'>;
  /** `gateway_subgraph_fetch_duration_seconds{subgraph}`: each fetch the gateway makes to a subgraph. */
  readonly subgraphFetchDuration: Histogram<'subgraph'>;
  /** `db_pool_connections{service,state}`, `state` = `total` | `idle` | `waiting`; fed by {@link observePool}. */
  readonly dbPoolConnections: Gauge<'service' | 'state'>;
  /** `rate_limit_rejections_total{service,field}`: each RATE_LIMITED answer (`field` = the limited field or budget). */
  readonly rateLimitRejections: Counter<'service' | 'field'>;
  /** `graphql_subscriptions_open{service}`; fed by {@link observeSubscriptions}. */
  readonly subscriptionsOpen: Gauge<'service'>;
  /** `cache_requests_total{service,cache,result}`, `result` = `hit` | `miss`. */
  readonly cacheRequests: Counter<'service' | 'cache' | 'result'>;
}

/** Request durations from 5 ms to 30 s: a GraphQL call, a subgraph fetch. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type PoolCounts = { total: number; idle: number; waiting: number };
const poolSources = new Map<string, Set<() => PoolCounts>>();
const poolListSources = new Set<() => ReadonlyArray<PoolCounts & { service: string }>>();
const subscriptionSources = new Map<string, Set<() => number>>();

let registry: Registry | undefined;
const created = new Map<string, unknown>();

function getRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}

function lazy<T>(name: string, create: (registers: Registry[]) => T): T {
  let metric = created.get(name) as T | undefined;
  if (metric === undefined) {
    metric = create([getRegistry()]);
    created.set(name, metric);
  }
  return metric;
}

export const metrics: Metrics = {
  get registry() {
    return getRegistry();
  },
  get graphqlRequests() {
    return lazy(
      'graphql_requests_total',
      (registers) =>
        new Counter({
          name: 'graphql_requests_total',
          help: 'GraphQL requests by service, operation, operation type and outcome.',
          labelNames: ['service', 'operation', 'type', 'status'] as const,
          registers,
        }),
    );
  },
  get graphqlRequestDuration() {
    return lazy(
      'graphql_request_duration_seconds',
      (registers) =>
        new Histogram({
          name: 'graphql_request_duration_seconds',
          help: 'GraphQL request duration in seconds.',
          labelNames: ['service', 'operation', 'type'] as const,
          buckets: DURATION_BUCKETS,
          registers,
        }),
    );
  },
  get graphqlErrors() {
    return lazy(
      'graphql_errors_total',
      (registers) =>
        new Counter({
          name: 'graphql_errors_total',
          help: 'GraphQL errors in responses, by extensions.code.',
          labelNames: ['service', 'code'] as const,
          registers,
        }),
    );
  },
  get subgraphFetchDuration() {
    return lazy(
      'gateway_subgraph_fetch_duration_seconds',
      (registers) =>
        new Histogram({
          name: 'gateway_subgraph_fetch_duration_seconds',
          help: "Duration of the gateway's fetches to each subgraph, in seconds.",
          labelNames: ['subgraph'] as const,
          buckets: DURATION_BUCKETS,
          registers,
        }),
    );
  },
  get dbPoolConnections() {
    return lazy(
      'db_pool_connections',
      (registers) =>
        new Gauge({
          name: 'db_pool_connections',
          help: 'PostgreSQL pool connections by state (total, idle, waiting clients).',
          labelNames: ['service', 'state'] as const,
          registers,
          collect() {
            this.reset();
            const sums = new Map<string, PoolCounts>();
            const add = (service: string, counts: PoolCounts) => {
              const sum = sums.get(service) ?? { total: 0, idle: 0, waiting: 0 };
              sum.total += counts.total;
              sum.idle += counts.idle;
              sum.waiting += counts.waiting;
              sums.set(service, sum);
            };
            for (const [service, sources] of poolSources) for (const source of sources) add(service, source());
            for (const source of poolListSources) for (const pool of source()) add(pool.service, pool);
            for (const [service, sum] of sums) {
              for (const state of ['total', 'idle', 'waiting'] as const) this.set({ service, state }, sum[state]);
            }
          },
        }),
    );
  },
  get rateLimitRejections() {
    return lazy(
      'rate_limit_rejections_total',
      (registers) =>
        new Counter({
          name: 'rate_limit_rejections_total',
          help: 'Requests refused with RATE_LIMITED, by the limited field or budget.',
          labelNames: ['service', 'field'] as const,
          registers,
        }),
    );
  },
  get subscriptionsOpen() {
    return lazy(
      'graphql_subscriptions_open',
      (registers) =>
        new Gauge({
          name: 'graphql_subscriptions_open',
          help: 'Subscription streams open right now.',
          labelNames: ['service'] as const,
          registers,
          collect() {
            this.reset();
            for (const [service, sources] of subscriptionSources) {
              let open = 0;
              for (const source of sources) open += source();
              this.set({ service }, open);
            }
          },
        }),
    );
  },
  get cacheRequests() {
    return lazy(
      'cache_requests_total',
      (registers) =>
        new Counter({
          name: 'cache_requests_total',
          help: 'Cache lookups by cache and result (hit or miss).',
          labelNames: ['service', 'cache', 'result'] as const,
          registers,
        }),
    );
  },
};

function addSource<T>(sources: Map<string, Set<T>>, service: string, source: T): () => void {
  let set = sources.get(service);
  if (!set) sources.set(service, (set = new Set()));
  set.add(source);
  return () => {
    set.delete(source);
    if (set.size === 0 && sources.get(service) === set) sources.delete(service);
  };
}

/**
 * Reports a connection pool in `db_pool_connections` at every scrape (read
 * then, so the numbers are never stale). Returns the function that stops
 * reporting it (call it when the pool closes).
 *
 * @example
 * const unobserve = observePool('auth', () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }));
 */
export function observePool(service: string, counts: () => PoolCounts): () => void {
  void metrics.dbPoolConnections;
  return addSource(poolSources, service, counts);
}

/** Like {@link observePool} for a source that lists many pools at once (the `db` package's open pools), each by service. */
export function observePools(list: () => ReadonlyArray<PoolCounts & { service: string }>): () => void {
  void metrics.dbPoolConnections;
  poolListSources.add(list);
  return () => void poolListSources.delete(list);
}

/** Reports open subscription streams in `graphql_subscriptions_open` at every scrape; returns the unobserve function. */
export function observeSubscriptions(service: string, open: () => number): () => void {
  void metrics.subscriptionsOpen;
  return addSource(subscriptionSources, service, open);
}

/** Counts one cache lookup in `cache_requests_total`. */
export function countCacheLookup(service: string, cache: string, isHit: boolean): void {
  metrics.cacheRequests.inc({ service, cache, result: isHit ? 'hit' : 'miss' });
}

/** At most this many distinct operation names become labels; the rest are `other`. */
export const MAX_OPERATION_LABELS = 500;
const operationLabels = new Set<string>();

/**
 * The `operation` label for an operation name, bounding the label's
 * cardinality: the name itself for the first {@link MAX_OPERATION_LABELS}
 * distinct names this process sees, `other` after that, `anonymous` for an
 * unnamed operation. Never pass raw query text: only a parsed operation's name
 * (or a persisted document's).
 */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  if (operationLabels.has(name)) return name;
  if (operationLabels.size >= MAX_OPERATION_LABELS || !/^[_A-Za-z][_0-9A-Za-z]{0,127}$/.test(name)) return 'other';
  operationLabels.add(name);
  return name;
}

export interface MetricsRouteOptions {
  /**
   * Whether a client address may read the metrics (the gateway passes its
   * `METRICS_ALLOW` CIDR list); others get 403. Default: everyone, since
   * subgraphs listen on an internal network and `npm start` on loopback.
   */
  allows?: (address: string, req: IncomingMessage) => boolean;
}

/**
 * `GET /metrics` in the Prometheus text format: the process's registry
 * (every service in it). Other methods get 405.
 */
export function metricsRoute(
  options: MetricsRouteOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed\n');
      return;
    }
    if (options.allows && !options.allows(req.socket.remoteAddress ?? '', req)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Forbidden\n');
      return;
    }
    const body = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
    res.end(method === 'HEAD' ? undefined : body);
  };
}
