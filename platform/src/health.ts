import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { withDeadline } from './deadline.ts';
import { sendJson } from './http.ts';
import { repoPath } from './repo.ts';

/** The release (`version` of the root package.json), the same for every service of a checkout or image. */
export const VERSION: string = readVersion();

function readVersion(): string {
  try {
    const parsed = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * `GET /health`: liveness only (the process answers), never its dependencies,
 * so an orchestrator does not restart a healthy process during a database
 * outage; `/ready` says whether it can serve.
 */
export function healthRoute(service: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => sendJson(res, 200, { status: 'ok', service, version: VERSION });
}

/** Named dependency checks (`postgres`, `redis`, a subgraph's name): each resolves when that dependency serves, else throws. */
export type ReadinessChecks = Readonly<Record<string, () => Promise<unknown>>>;

export interface ReadinessOptions {
  service: string;
  checks: ReadinessChecks;
  /** True once shutdown began: answer 503 `draining` so load balancers stop sending work. */
  isDraining?: () => boolean;
  /** Each check fails after this long. Default 1 s. */
  timeoutMs?: number;
}

/**
 * `GET /ready`: 200 `ready` when every check passes, 503 `draining` once
 * shutdown began, else 503 `unavailable` naming the failed checks
 * (`{"unavailable":["postgres"]}`), never their error messages (they can name
 * hosts and users).
 *
 * @example
 * routes: { '/ready': readinessRoute({ service: 'auth', checks: { postgres: database.ping, redis: pingRedis(redis) } }) }
 */
export function readinessRoute(
  options: ReadinessOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (_req, res) => {
    const base = { service: options.service, version: VERSION };
    if (options.isDraining?.()) return sendJson(res, 503, { status: 'draining', ...base });
    const unavailable = await failedChecks(options.checks, options.timeoutMs ?? 1_000);
    if (options.isDraining?.()) return sendJson(res, 503, { status: 'draining', ...base });
    if (unavailable.length === 0) return sendJson(res, 200, { status: 'ready', ...base });
    sendJson(res, 503, { status: 'unavailable', ...base, unavailable });
  };
}

/** The names of the checks that failed or did not answer within `timeoutMs`, in the order given. */
export async function failedChecks(checks: ReadinessChecks, timeoutMs: number): Promise<string[]> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withDeadline(check(), timeoutMs, () => {
          throw new Error(`${name} did not answer within ${timeoutMs} ms`);
        });
        return undefined;
      } catch {
        return name;
      }
    }),
  );
  return results.filter((name) => name !== undefined);
}

/** A readiness check that PINGs Redis (fails at once while the client is disconnected: it queues nothing). */
export function pingRedis(redis: Redis): () => Promise<void> {
  return async () => {
    const answer = await redis.ping();
    if (answer !== 'PONG') throw new Error(`redis answered ${answer}`);
  };
}
