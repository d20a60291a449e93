import type { Redis } from '@supergraph/platform';
import { routeOf, type ServiceTarget } from './service-targets.ts';

export type HealthStatus = 'UP' | 'DEGRADED' | 'DOWN';

/** One service, checked just now. */
export interface ServiceHealthReport extends ServiceTarget {
  version: string;
  status: HealthStatus;
  latencyMs: number | null;
  lastSeen: Date | null;
  checkedAt: Date;
  httpStatus: number | null;
  error: string | null;
}

export interface HealthCheckerOptions {
  redis: Redis;
  /** Redis names' prefix (`<prefix>ops:last-seen` holds every instance's last successful check). */
  prefix: string;
  /** The version a service that does not say its own is assumed to run (the repository's). */
  fallbackVersion: string;
  /** How long a check waits for `/ready`. Default 1 s. */
  timeoutMs?: number;
}

/**
 * Checks services now: `GET /ready` (timed; 200 → UP, any other answer →
 * DEGRADED, none within the timeout → DOWN) and `GET /health` for the version
 * it reports. `lastSeen`, the last time any operations instance found a
 * service ready, lives in a Redis hash so every instance answers alike, with
 * this process's own memory as the fallback while Redis is down.
 */
export class HealthChecker {
  readonly #options: Required<HealthCheckerOptions>;
  readonly #lastSeen = new Map<string, Date>();

  constructor(options: HealthCheckerOptions) {
    this.#options = { timeoutMs: 1_000, ...options };
  }

  get #lastSeenKey(): string {
    return `${this.#options.prefix}ops:last-seen`;
  }

  /** Every target, checked in parallel. */
  async checkAll(targets: readonly ServiceTarget[]): Promise<ServiceHealthReport[]> {
    const checked = await Promise.all(targets.map((target) => this.#probe(target)));
    const up = checked.filter((report) => report.status === 'UP');
    const shared = await this.#shareLastSeen(up);
    return checked.map((report) => ({
      ...report,
      lastSeen: latest(shared.get(report.name) ?? null, this.#lastSeen.get(report.name) ?? null),
    }));
  }

  async #probe(target: ServiceTarget): Promise<Omit<ServiceHealthReport, 'lastSeen'>> {
    const checkedAt = new Date();
    const started = performance.now();
    const [ready, health] = await Promise.allSettled([
      fetch(routeOf(target, '/ready'), { signal: AbortSignal.timeout(this.#options.timeoutMs) }).then(async (res) => {
        await res.body?.cancel();
        return { status: res.status, latencyMs: round(performance.now() - started) };
      }),
      fetch(routeOf(target, '/health'), { signal: AbortSignal.timeout(this.#options.timeoutMs) }).then((res) =>
        res.ok ? (res.json() as Promise<unknown>) : null,
      ),
    ]);
    const version = versionOf(health.status === 'fulfilled' ? health.value : null) ?? this.#options.fallbackVersion;
    if (ready.status === 'rejected') {
      return {
        ...target,
        version,
        status: 'DOWN',
        latencyMs: null,
        checkedAt,
        httpStatus: null,
        error: describeFailure(ready.reason),
      };
    }
    const isReady = ready.value.status === 200;
    if (isReady) this.#lastSeen.set(target.name, checkedAt);
    return {
      ...target,
      version,
      status: isReady ? 'UP' : 'DEGRADED',
      latencyMs: ready.value.latencyMs,
      checkedAt,
      httpStatus: ready.value.status,
      error: isReady ? null : `/ready answered ${ready.value.status}`,
    };
  }

  /** Records this round's successes and reads everyone's; an empty map while Redis is down. */
  async #shareLastSeen(up: ReadonlyArray<{ name: string; checkedAt: Date }>): Promise<Map<string, Date>> {
    try {
      if (up.length > 0) {
        await this.#options.redis.hset(
          this.#lastSeenKey,
          Object.fromEntries(up.map((report) => [report.name, report.checkedAt.toISOString()])),
        );
      }
      const all = await this.#options.redis.hgetall(this.#lastSeenKey);
      return new Map(
        Object.entries(all)
          .map(([name, iso]) => [name, new Date(iso)] as const)
          .filter(([, date]) => !Number.isNaN(date.getTime())),
      );
    } catch {
      return new Map();
    }
  }
}

function versionOf(body: unknown): string | undefined {
  const version = (body as { version?: unknown } | null)?.version;
  return typeof version === 'string' && version.length > 0 && version.length <= 100 ? version : undefined;
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** A short reason for a failed fetch, without URLs or stacks. */
export function describeFailure(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'no answer within the timeout';
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code === 'string') return `unreachable (${code})`;
  return 'unreachable';
}
