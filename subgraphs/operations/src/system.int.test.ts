import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadUrl } from '@supergraph/testing';
import { packageVersion, type RunningOperations } from './server.ts';
import { adminIdentity, startHarness, userIdentity, type OperationsHarness } from './testing/harness.ts';

const SERVICE_FIELDS = 'name kind url version status latencyMs lastSeen health { checkedAt httpStatus error }';

interface ServiceShape {
  name: string;
  kind: string;
  url: string;
  version: string;
  status: string;
  latencyMs: number | null;
  lastSeen: string | null;
  health: { checkedAt: string; httpStatus: number | null; error: string | null };
}

let harness: OperationsHarness;
let watcher: RunningOperations;
let degraded: Server;
let degradedUrl: string;
let downUrl: string;

/** A service that answers, but not ready (503), and says its version on `/health`. */
async function startDegradedService(): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/health') return void res.end(JSON.stringify({ status: 'ok', version: '9.9.9-test' }));
    res.statusCode = 503;
    res.end(JSON.stringify({ status: 'unavailable' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  harness = await startHarness();
  degraded = await startDegradedService();
  degradedUrl = `http://127.0.0.1:${(degraded.address() as AddressInfo).port}/graphql`;
  downUrl = await deadUrl();
  // A second instance watching the first (UP), a service not ready (DEGRADED) and one that is gone (DOWN).
  watcher = await harness.startInstance({
    targets: [
      { name: 'operations', kind: 'SUBGRAPH', url: harness.running.url },
      { name: 'half', kind: 'SUBGRAPH', url: degradedUrl },
      { name: 'gateway', kind: 'GATEWAY', url: downUrl },
    ],
  });
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => degraded?.close(() => resolve()));
  await harness?.close();
});

function callWatcher<T>(query: string, variables: Record<string, unknown> = {}, identity = adminIdentity()) {
  return harness.call<T>(query, variables, identity, watcher.url);
}

describe('services', () => {
  it('checks every service now: UP with its latency, DEGRADED when not ready, DOWN when it does not answer', async () => {
    const result = await callWatcher<{ services: ServiceShape[] }>(`{ services { ${SERVICE_FIELDS} } }`);
    expect(result.errors).toBeUndefined();
    const [self, half, gateway] = result.data!.services;
    expect(self).toMatchObject({ name: 'operations', kind: 'SUBGRAPH', status: 'UP', version: packageVersion() });
    expect(self!.latencyMs).toBeGreaterThan(0);
    expect(self!.lastSeen).not.toBeNull();
    expect(self!.health).toMatchObject({ httpStatus: 200, error: null });
    expect(half).toMatchObject({ name: 'half', status: 'DEGRADED', version: '9.9.9-test', lastSeen: null });
    expect(half!.health).toMatchObject({ httpStatus: 503, error: '/ready answered 503' });
    expect(gateway).toMatchObject({
      name: 'gateway',
      kind: 'GATEWAY',
      status: 'DOWN',
      latencyMs: null,
      lastSeen: null,
    });
    expect(gateway!.health.httpStatus).toBeNull();
    expect(gateway!.health.error).toMatch(/unreachable|timeout/);
  });

  it('keeps lastSeen of a service that went down (shared through Redis, so every instance agrees)', async () => {
    const first = await callWatcher<{ service: ServiceShape }>(`{ service(name: "operations") { ${SERVICE_FIELDS} } }`);
    const seenAt = first.data!.service.lastSeen!;
    // Another instance, which never checked it itself, reads the same lastSeen from Redis.
    const fromOther = await harness.call<{ _entities: ServiceShape[] }>(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Service { ${SERVICE_FIELDS} } } }`,
      { r: [{ __typename: 'Service', name: 'operations' }] },
    );
    // The first instance watches nothing (the harness passes no targets): its entity is null.
    expect(fromOther.data!._entities).toEqual([null]);
    const viaEntities = await callWatcher<{ _entities: ServiceShape[] }>(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Service { name status lastSeen } } }`,
      { r: [{ __typename: 'Service', name: 'operations' }] },
    );
    expect(viaEntities.data!._entities[0]).toMatchObject({ name: 'operations', status: 'UP' });
    expect(Date.parse(viaEntities.data!._entities[0]!.lastSeen!)).toBeGreaterThanOrEqual(Date.parse(seenAt));
  });

  it('answers null for a service it does not watch', async () => {
    const result = await callWatcher<{ service: ServiceShape | null }>('{ service(name: "nope") { name } }');
    expect(result.errors).toBeUndefined();
    expect(result.data!.service).toBeNull();
  });
});

describe('systemStatus and systemMetrics', () => {
  it('reports DEGRADED while a service is down, with PostgreSQL and Redis measured', async () => {
    const result = await callWatcher<{
      systemStatus: {
        status: string;
        version: string;
        environment: string;
        uptimeSeconds: number;
        dependencies: Array<{ name: string; status: string; latencyMs: number | null; error: string | null }>;
        services: Array<{ name: string; status: string }>;
      };
    }>(
      '{ systemStatus { status version environment uptimeSeconds startedAt dependencies { name status latencyMs error } services { name status } } }',
    );
    expect(result.errors).toBeUndefined();
    const status = result.data!.systemStatus;
    expect(status).toMatchObject({ status: 'DEGRADED', version: packageVersion(), environment: 'development' });
    expect(status.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(status.dependencies.map((dependency) => [dependency.name, dependency.status, dependency.error])).toEqual([
      ['postgresql', 'UP', null],
      ['redis', 'UP', null],
    ]);
    expect(status.dependencies.every((dependency) => (dependency.latencyMs ?? -1) >= 0)).toBe(true);
    expect(status.services.map((service) => service.status)).toEqual(['UP', 'DEGRADED', 'DOWN']);
  });

  it('reads the host and scrapes each service it can reach', async () => {
    const result = await callWatcher<{
      systemMetrics: {
        host: {
          cpuCount: number;
          loadAverage: number[];
          memoryTotalBytes: number;
          memoryFreeBytes: number;
          diskPath: string;
          diskTotalBytes: number | null;
        };
        services: Array<{
          name: string;
          reachable: boolean;
          residentMemoryBytes: number | null;
          eventLoopLagSeconds: number | null;
        }>;
      };
    }>(
      `{ systemMetrics { collectedAt host { hostname cpuCount loadAverage memoryTotalBytes memoryFreeBytes diskPath diskTotalBytes diskFreeBytes }
         services { name reachable cpuSecondsTotal residentMemoryBytes heapUsedBytes eventLoopLagSeconds } } }`,
    );
    expect(result.errors).toBeUndefined();
    const { host, services } = result.data!.systemMetrics;
    expect(host.cpuCount).toBeGreaterThan(0);
    expect(host.loadAverage).toHaveLength(3);
    expect(host.memoryTotalBytes).toBeGreaterThan(host.memoryFreeBytes);
    expect(host.diskTotalBytes).toBeGreaterThan(0);
    const [self, half, gateway] = services;
    // Every kit server serves GET /metrics with prom-client's default metrics.
    expect(self).toMatchObject({ name: 'operations', reachable: true });
    expect(self!.residentMemoryBytes).toBeGreaterThan(0);
    expect(half).toMatchObject({ name: 'half', reachable: false, residentMemoryBytes: null });
    expect(gateway).toMatchObject({ name: 'gateway', reachable: false });
  });
});

describe('access', () => {
  const FIELDS = [
    '{ systemStatus { status } }',
    '{ services { name } }',
    '{ service(name: "operations") { name } }',
    '{ systemMetrics { collectedAt } }',
    '{ settings { version } }',
    '{ auditLog { edges { cursor } } }',
    '{ usageReport(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { requests } }',
    'mutation { updateSetting(key: "maintenance", value: { enabled: true, message: "" }) { version } }',
  ];

  it('refuses every operator field to a signed-in user (FORBIDDEN) and to the anonymous (401 without a token)', async () => {
    for (const query of FIELDS) {
      const refused = await callWatcher(query, {}, userIdentity());
      expect(refused.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
      // Nothing of the field leaks: null data, or the nullable field itself null.
      expect(
        Object.values(refused.data ?? {}).every((value) => value === null),
        query,
      ).toBe(true);
      const anonymous = await harness.call(query, {}, null, watcher.url);
      expect(anonymous.status, query).toBe(401);
    }
  });
});
