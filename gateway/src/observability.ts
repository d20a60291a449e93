import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  createLogger,
  graphqlMetricsPlugin,
  healthRoute,
  metrics,
  operationLabel,
  pingRedis,
  readinessRoute,
  sentErrorCode,
  type Identity,
  type MetricsRouteOptions,
  type OperationOutcome,
  type ReadinessChecks,
  type Redis,
  type RouteHandler,
} from '@supergraph/platform';
import { createAddressAllowlist } from './client-address.ts';

// The request line's fields are the ones below, none a credential: no redaction pass per request.
const log = createLogger('gateway', { fixedFields: true });

export interface GatewayObservabilityOptions {
  /** Subgraph name → its GraphQL URL; `/ready` asks each one's `/ready`. */
  subgraphs: ReadonlyMap<string, string>;
  /** The gateway's own Redis (budgets), PINGed by `/ready`. */
  redis?: Redis | undefined;
  /** Each subgraph's `/ready` gets this long. Default 1 s. */
  readyTimeoutMs?: number;
  /** A subgraph's readiness is asked again after this long (probes every second must not fan out every time). Default 1 s. */
  readyCacheMs?: number;
  /** CIDR ranges that may read `/metrics`; empty or unset: everyone (see docs/observability.md). */
  metricsAllow?: readonly string[] | undefined;
  /** Where a request comes from (the hop-aware client address), for `metricsAllow`. */
  clientAddress: (req: IncomingMessage) => string;
  /** True once the gateway began stopping. */
  isDraining: () => boolean;
  graphqlPath?: string;
}

const RECORD = Symbol('request record');

interface RequestRecord {
  startedAt: number;
  requestId: string;
  userId: string | null;
  outcome?: OperationOutcome;
}

/**
 * What the gateway reports about itself: one log line and the request
 * metrics per HTTP request, `/health`, a `/ready` that reflects the
 * subgraphs' own readiness and the gateway's Redis, and who may read
 * `/metrics`. Requests refused before GraphQL runs (401, 413, 429) are counted
 * here; those Apollo runs are counted by its plugin, never twice.
 */
export function createGatewayObservability(options: GatewayObservabilityOptions) {
  const graphqlPath = options.graphqlPath ?? '/graphql';
  const records = new WeakMap<IncomingMessage, RequestRecord>();
  const readyTimeoutMs = options.readyTimeoutMs ?? 1_000;
  const readyCacheMs = options.readyCacheMs ?? 1_000;
  const readiness = new Map<string, { at: number; isReady: Promise<boolean> }>();
  const metricsAllow = options.metricsAllow?.length ? createAddressAllowlist(options.metricsAllow) : undefined;

  function subgraphReady(name: string, url: string): Promise<boolean> {
    const now = performance.now();
    const known = readiness.get(name);
    if (known && now - known.at < readyCacheMs) return known.isReady;
    const isReady = isSubgraphReady(url, readyTimeoutMs);
    readiness.set(name, { at: now, isReady });
    return isReady;
  }

  const checks: Record<string, () => Promise<unknown>> = {};
  if (options.redis) checks['redis'] = pingRedis(options.redis);
  for (const [name, url] of options.subgraphs) {
    checks[name] = async () => {
      if (!(await subgraphReady(name, url))) throw new Error(`${name} is not ready`);
    };
  }

  function finish(req: IncomingMessage, res: ServerResponse): void {
    const record = records.get(req);
    if (!record) return;
    records.delete(req);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const durationMs = Math.round((performance.now() - record.startedAt) * 10) / 10;
    const sentCode = sentErrorCode(res);
    const errorCodes = record.outcome?.errorCodes ?? (sentCode ? [sentCode] : []);
    if (path === graphqlPath && !record.outcome) {
      // Refused before Apollo ran (or streamed outside it): the plugin never saw it.
      const type = 'unknown';
      const operation = operationLabel(null);
      const status = errorCodes.length > 0 || res.statusCode >= 400 ? 'error' : 'ok';
      metrics.graphqlRequests.inc({ service: 'gateway', operation, type, status });
      metrics.graphqlRequestDuration.observe({ service: 'gateway', operation, type }, durationMs / 1000);
      for (const code of errorCodes) metrics.graphqlErrors.inc({ service: 'gateway', code });
    }
    const line = {
      method: req.method ?? 'GET',
      path,
      status: res.statusCode,
      durationMs,
      operationName: record.outcome?.operationName ?? null,
      operationType: record.outcome?.operationType ?? null,
      requestId: record.requestId,
      userId: record.userId,
      errorCodes,
      ...(res.writableFinished ? {} : { aborted: true }),
    };
    if (res.statusCode >= 500) log.error(line, 'request');
    else log.info(line, 'request');
  }

  const ready = readinessRoute({
    service: 'gateway',
    checks: checks satisfies ReadinessChecks,
    isDraining: options.isDraining,
    // A subgraph's own checks get their second; the gateway allows a little more for the hop.
    timeoutMs: readyTimeoutMs + 500,
  });

  return {
    /** Counts what Apollo runs and remembers the operation for the request line. */
    plugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
      return graphqlMetricsPlugin<TContext>({
        service: 'gateway',
        countRateLimitRejections: false,
        onOutcome: (context, outcome) => {
          const record = (context as { [RECORD]?: RequestRecord })[RECORD];
          if (record) record.outcome = outcome;
        },
      });
    },
    /** Starts a request's record; call first (preflight), with the request id the response carries. */
    begin(req: IncomingMessage, res: ServerResponse, requestId: string): void {
      records.set(req, { startedAt: performance.now(), requestId, userId: null });
      res.once('close', () => finish(req, res));
    },
    /** Links the request's GraphQL context to its record (user id, operation); returns the context. */
    track<TContext extends { identity: Identity }>(req: IncomingMessage, context: TContext): TContext {
      const record = records.get(req);
      if (!record) return context;
      record.userId = context.identity.userId ?? null;
      // A property, not a WeakMap entry: Apollo hands plugins a shallow copy of the context, which keeps it.
      return { ...context, [RECORD]: record };
    },
    routes: { '/health': healthRoute('gateway'), '/ready': ready } satisfies Record<string, RouteHandler>,
    metrics: (metricsAllow
      ? { allows: (_address: string, req: IncomingMessage) => metricsAllow.allows(options.clientAddress(req)) }
      : {}) satisfies MetricsRouteOptions,
  };
}

export type GatewayObservability = ReturnType<typeof createGatewayObservability>;

async function isSubgraphReady(graphqlUrl: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(new URL('/ready', graphqlUrl), { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
