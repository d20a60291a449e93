import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN, firstCode, type GraphQLResult } from './harness.ts';
import { startChatStack as startOpsStack, type ChatStack as OpsStack } from './chat-stack.ts';

/*
 * Issue 9's operations subgraph through the real gateway: operators see the
 * platform's health, change live settings the gateway follows, and read the
 * audit events and usage that real requests produced; everyone else is
 * refused each operator field.
 */

let stack: OpsStack;
let admin: Record<string, string>;

beforeAll(async () => {
  stack = await startOpsStack();
  admin = { authorization: `Bearer ${await stack.adminToken()}` };
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** Polls until `check` returns a value (generous bound: tests never fail on timing). */
async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function dataOf<T>(result: GraphQLResult, field: string): T {
  if (result.body.errors) throw new Error(JSON.stringify(result.body.errors));
  return result.body.data?.[field] as T;
}

const SERVICES = '{ services { name kind status latencyMs lastSeen version health { httpStatus error } } }';
const STATUS =
  '{ systemStatus { status version environment uptimeSeconds dependencies { name status latencyMs } services { name status } } }';
const UPDATE = `mutation Update($key: String!, $value: JSON!) {
  updateSetting(key: $key, value: $value) { version maintenance { enabled message } }
}`;
const AUDIT = `query Audit($filter: AuditLogFilter, $first: Int) {
  auditLog(filter: $filter, first: $first) { edges { node { type service actorId subjectId outcome details } } }
}`;

interface ServiceShape {
  name: string;
  kind: string;
  status: string;
  latencyMs: number | null;
  lastSeen: string | null;
}

describe('operations through the gateway', () => {
  it('shows every subgraph of the supergraph and the gateway UP, with latency', async () => {
    const services = dataOf<ServiceShape[]>(await stack.gql(SERVICES, {}, admin), 'services');
    expect(services.map((service) => [service.name, service.kind, service.status])).toEqual(
      [
        ['auth', 'SUBGRAPH', 'UP'],
        ['conversation', 'SUBGRAPH', 'UP'],
        ['knowledge', 'SUBGRAPH', 'UP'],
        ['operations', 'SUBGRAPH', 'UP'],
        ['storage-units', 'SUBGRAPH', 'UP'],
        ['gateway', 'GATEWAY', 'UP'],
      ].sort(([a], [b]) => (a === 'gateway' ? 1 : b === 'gateway' ? -1 : a!.localeCompare(b!))),
    );
    expect(services.every((service) => service.latencyMs !== null && service.lastSeen !== null)).toBe(true);
    const status = dataOf<{ status: string; dependencies: Array<{ name: string; status: string }> }>(
      await stack.gql(STATUS, {}, admin),
      'systemStatus',
    );
    expect(status.status).toBe('UP');
    expect(status.dependencies.map((dependency) => `${dependency.name}:${dependency.status}`)).toEqual([
      'postgresql:UP',
      'redis:UP',
    ]);
    const metrics = dataOf<{ services: Array<{ name: string; reachable: boolean }> }>(
      await stack.gql(
        '{ systemMetrics { host { cpuCount } services { name reachable residentMemoryBytes } } }',
        {},
        admin,
      ),
      'systemMetrics',
    );
    expect(metrics.services.filter((service) => service.reachable).map((service) => service.name)).toContain('gateway');
  });

  it('changes a setting and reads it back; maintenance refuses mutations with MAINTENANCE while reads work', async () => {
    const changed = dataOf<{ version: number; maintenance: { enabled: boolean } }>(
      await stack.gql(UPDATE, { key: 'maintenance', value: { enabled: true, message: 'Upgrading, back soon' } }, admin),
      'updateSetting',
    );
    expect(changed.maintenance.enabled).toBe(true);
    const read = dataOf<{ version: number; maintenance: { message: string } }>(
      await stack.gql('{ settings { version maintenance { enabled message } } }', {}, admin),
      'settings',
    );
    expect(read).toMatchObject({
      version: changed.version,
      maintenance: { enabled: true, message: 'Upgrading, back soon' },
    });
    try {
      // The gateway follows the published snapshot (Redis pub/sub), no restart.
      await eventually(async () => (stack.gatewaySettings.version() >= changed.version ? true : undefined));
      const refused = await stack.gql(LOGIN, { input: { usernameOrEmail: 'nobody', password: 'whatever-it-is-1' } });
      expect(firstCode(refused)).toBe('MAINTENANCE');
      const query = await stack.gql('{ settings { maintenance { enabled } } }', {}, admin);
      expect(query.body.errors).toBeUndefined();
    } finally {
      // updateSetting itself is exempt, so an operator can end maintenance.
      const ended = await stack.gql(UPDATE, { key: 'maintenance', value: { enabled: false, message: '' } }, admin);
      expect(ended.body.errors).toBeUndefined();
    }
    const after = dataOf<{ version: number }>(await stack.gql('{ settings { version } }', {}, admin), 'settings');
    await eventually(async () => (stack.gatewaySettings.version() >= after.version ? true : undefined));
    const invalid = await stack.gql(UPDATE, { key: 'rateLimitMultipliers', value: { free: -1 } }, admin);
    expect(firstCode(invalid)).toBe('BAD_USER_INPUT');
  });

  it('lists the audit events real requests produced (a login and a failed login), with no password in them', async () => {
    const user = await stack.signUp('audited');
    const failed = await stack.gql(LOGIN, {
      input: { usernameOrEmail: user.username, password: 'Wrong-Password-123' },
    });
    expect(failed.body.errors).toBeDefined();
    type AuditNode = {
      type: string;
      outcome: string;
      service: string;
      actorId: string | null;
      details: Record<string, unknown>;
    };
    const audited = async (filter: Record<string, unknown>) =>
      dataOf<{ edges: Array<{ node: AuditNode }> }>(
        await stack.gql(AUDIT, { filter, first: 100 }, admin),
        'auditLog',
      ).edges.map((edge) => edge.node);
    const login = await eventually(async () =>
      (await audited({ subjectId: user.userId, type: 'auth.login' })).find((event) => event.outcome === 'SUCCESS'),
    );
    expect(login).toMatchObject({ service: 'auth', actorId: user.userId });
    // A failed login names no account (it may not exist): the attempted name is in the details.
    const failedLogin = await eventually(async () =>
      (await audited({ type: 'auth.login_failed', outcome: 'FAILURE' })).find(
        (event) => event.details['username'] === user.username,
      ),
    );
    expect(failedLogin).toMatchObject({ service: 'auth', outcome: 'FAILURE', actorId: null });
    const events = [login, failedLogin, ...(await audited({ subjectId: user.userId }))];
    const everything = JSON.stringify(events);
    expect(everything).not.toContain(user.password);
    expect(everything).not.toContain('Wrong-Password-123');
    expect(everything).not.toContain(user.accessToken);
    const changes = await stack.gql(
      AUDIT,
      { filter: { type: 'operations.setting_changed', service: 'operations' } },
      admin,
    );
    expect(dataOf<{ edges: unknown[] }>(changes, 'auditLog').edges.length).toBeGreaterThanOrEqual(2);
  });

  it("reads the usage real requests produced: a user's own, and the operators' report", async () => {
    const user = await stack.signUp('usage');
    const headers = { authorization: `Bearer ${user.accessToken}` };
    for (let index = 0; index < 3; index++) {
      const me = await stack.gql('query WhoAmI { me { id } }', {}, headers);
      expect(me.body.errors).toBeUndefined();
    }
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const USAGE = `query MyUsage($from: DateTime!, $to: DateTime!) {
      me { id usage(from: $from, to: $to) { requests errors byOperation { operationName requests } } }
    }`;
    const usage = await eventually(async () => {
      const me = dataOf<{
        usage: { requests: number; errors: number; byOperation: Array<{ operationName: string; requests: number }> };
      }>(await stack.gql(USAGE, { from, to }, headers), 'me');
      const whoAmI = me.usage.byOperation.find((row) => row.operationName === 'WhoAmI');
      return whoAmI?.requests === 3 ? me.usage : undefined;
    });
    expect(usage.errors).toBe(0);
    const report = await eventually(async () => {
      const rows = dataOf<Array<{ operationName: string | null; requests: number; p95LatencyMs: number; day: string }>>(
        await stack.gql(
          'query Report($from: DateTime!, $to: DateTime!) { usageReport(from: $from, to: $to) { operationName day requests errorRate p95LatencyMs } }',
          { from, to },
          admin,
        ),
        'usageReport',
      );
      const row = rows.find((candidate) => candidate.operationName === 'WhoAmI');
      return row && row.requests >= 3 ? rows : undefined;
    });
    expect(report.find((row) => row.operationName === 'Login')?.requests).toBeGreaterThanOrEqual(1);
    const bad = await stack.gql(
      'query { usageReport(from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z") { requests } }',
      {},
      admin,
    );
    expect(firstCode(bad)).toBe('BAD_USER_INPUT');
  });

  it('refuses every operator field to a signed-in user and to the anonymous', async () => {
    const user = await stack.signUp('nosy');
    const headers = { authorization: `Bearer ${user.accessToken}` };
    const fields = [
      '{ systemStatus { status } }',
      '{ services { name } }',
      '{ service(name: "auth") { name } }',
      '{ systemMetrics { collectedAt } }',
      '{ settings { version } }',
      '{ auditLog { edges { cursor } } }',
      '{ usageReport(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { requests } }',
      'mutation { updateSetting(key: "maintenance", value: { enabled: true, message: "" }) { version } }',
    ];
    for (const query of fields) {
      const refused = await stack.gql(query, {}, headers);
      expect(firstCode(refused), query).toBe('FORBIDDEN');
      const anonymous = await stack.gql(query);
      expect(['UNAUTHENTICATED', 'FORBIDDEN'], query).toContain(firstCode(anonymous));
    }
    const settings = dataOf<{ maintenance: { enabled: boolean } }>(
      await stack.gql('{ settings { maintenance { enabled } } }', {}, admin),
      'settings',
    );
    expect(settings.maintenance.enabled).toBe(false);
  });

  it('shows a stopped subgraph DOWN and the system DEGRADED', async () => {
    await stack.knowledge.stop();
    const knowledge = dataOf<ServiceShape>(
      await stack.gql('{ service(name: "knowledge") { name status latencyMs lastSeen } }', {}, admin),
      'service',
    );
    expect(knowledge).toMatchObject({ name: 'knowledge', status: 'DOWN', latencyMs: null });
    // lastSeen stays at its last successful check.
    expect(knowledge.lastSeen).not.toBeNull();
    const status = dataOf<{ status: string; services: Array<{ name: string; status: string }> }>(
      await stack.gql(STATUS, {}, admin),
      'systemStatus',
    );
    expect(status.status).toBe('DEGRADED');
    expect(status.services.find((service) => service.name === 'knowledge')?.status).toBe('DOWN');
  });
});
