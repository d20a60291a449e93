import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { sql, type Kysely } from 'kysely';
import type { Redis } from '@supergraph/platform';
import { describeFailure, type HealthChecker, type HealthStatus, type ServiceHealthReport } from './health.service.ts';
import type { OperationsDb } from './operations.table.ts';
import { processMetricsOf, type ProcessMetrics } from './prometheus-text.ts';
import { routeOf, type ServiceTarget } from './service-targets.ts';

export interface DependencyReport {
  name: 'postgresql' | 'redis';
  status: HealthStatus;
  latencyMs: number | null;
  error: string | null;
}

export interface SystemStatusReport {
  status: HealthStatus;
  version: string;
  environment: string;
  uptimeSeconds: number;
  startedAt: Date;
  dependencies: DependencyReport[];
  services: ServiceHealthReport[];
}

/** What operations knows about the process it runs in and the platform around it. */
export interface SystemFacts {
  db: Kysely<OperationsDb>;
  redis: Redis;
  health: HealthChecker;
  targets: readonly ServiceTarget[];
  version: string;
  environment: string;
  startedAt: Date;
  /** Where disk usage is measured (the data directory); `/` when it cannot be. */
  dataDir: string;
  /** How long a dependency or `/metrics` may take. Default 1 s. */
  timeoutMs?: number;
}

async function timed(name: DependencyReport['name'], probe: () => Promise<unknown>, timeoutMs: number) {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), timeoutMs);
      }),
    ]);
    return {
      name,
      status: 'UP',
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
      error: null,
    } as const;
  } catch (error) {
    return { name, status: 'DOWN', latencyMs: null, error: describeFailure(error) } as const;
  } finally {
    clearTimeout(timer);
  }
}

/** PostgreSQL (`select 1`) and Redis (`PING`), each timed, each DOWN past the timeout. */
export function checkDependencies(facts: SystemFacts): Promise<DependencyReport[]> {
  const timeoutMs = facts.timeoutMs ?? 1_000;
  return Promise.all([
    timed('postgresql', () => sql`select 1`.execute(facts.db), timeoutMs),
    timed('redis', () => facts.redis.ping(), timeoutMs),
  ]);
}

/**
 * UP when every dependency and service is up; DOWN when PostgreSQL is (no
 * setting, audit or usage can be stored or read); DEGRADED otherwise.
 */
export function overallStatus(dependencies: readonly DependencyReport[], services: readonly ServiceHealthReport[]) {
  if (dependencies.some((dependency) => dependency.name === 'postgresql' && dependency.status === 'DOWN'))
    return 'DOWN' as const;
  const everyUp = [...dependencies, ...services].every((item) => item.status === 'UP');
  return everyUp ? ('UP' as const) : ('DEGRADED' as const);
}

export async function systemStatus(facts: SystemFacts): Promise<SystemStatusReport> {
  const [dependencies, services] = await Promise.all([checkDependencies(facts), facts.health.checkAll(facts.targets)]);
  return {
    status: overallStatus(dependencies, services),
    version: facts.version,
    environment: facts.environment,
    uptimeSeconds: Math.round((Date.now() - facts.startedAt.getTime()) / 10) / 100,
    startedAt: facts.startedAt,
    dependencies,
    services,
  };
}

export interface HostMetricsReport {
  hostname: string;
  cpuCount: number;
  loadAverage: number[];
  memoryTotalBytes: number;
  memoryFreeBytes: number;
  diskPath: string;
  diskTotalBytes: number | null;
  diskFreeBytes: number | null;
}

export interface ServiceMetricsReport extends ProcessMetrics {
  name: string;
  reachable: boolean;
}

export interface SystemMetricsReport {
  collectedAt: Date;
  host: HostMetricsReport;
  services: ServiceMetricsReport[];
}

async function diskOf(
  dataDir: string,
): Promise<Pick<HostMetricsReport, 'diskPath' | 'diskTotalBytes' | 'diskFreeBytes'>> {
  for (const diskPath of [dataDir, '/']) {
    try {
      const stats = await statfs(diskPath);
      return { diskPath, diskTotalBytes: stats.blocks * stats.bsize, diskFreeBytes: stats.bavail * stats.bsize };
    } catch {
      // The data directory may not exist (a fresh checkout in service mode): fall back to the root.
    }
  }
  return { diskPath: '/', diskTotalBytes: null, diskFreeBytes: null };
}

async function scrape(target: ServiceTarget, timeoutMs: number): Promise<ServiceMetricsReport> {
  try {
    const response = await fetch(routeOf(target, '/metrics'), { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`status ${response.status}`);
    return { name: target.name, reachable: true, ...processMetricsOf(await response.text()) };
  } catch {
    return {
      name: target.name,
      reachable: false,
      cpuSecondsTotal: null,
      residentMemoryBytes: null,
      heapUsedBytes: null,
      eventLoopLagSeconds: null,
    };
  }
}

/** This host's load, memory and disk, and every service's `/metrics`, scraped now in parallel. */
export async function systemMetrics(facts: SystemFacts): Promise<SystemMetricsReport> {
  const timeoutMs = facts.timeoutMs ?? 1_000;
  const [disk, services] = await Promise.all([
    diskOf(facts.dataDir),
    Promise.all(facts.targets.map((target) => scrape(target, timeoutMs))),
  ]);
  return {
    collectedAt: new Date(),
    host: {
      hostname: os.hostname(),
      cpuCount: os.availableParallelism(),
      loadAverage: os.loadavg(),
      memoryTotalBytes: os.totalmem(),
      memoryFreeBytes: os.freemem(),
      ...disk,
    },
    services,
  };
}
