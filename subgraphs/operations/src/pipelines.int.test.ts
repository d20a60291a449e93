import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_STREAM,
  createAuditLog,
  createUsageRecorder,
  USAGE_STREAM,
  type UsageRecord,
} from '@supergraph/platform';
import { pruneExpired } from './pruner.ts';
import { adminIdentity, eventually, startHarness, userIdentity, type OperationsHarness } from './testing/harness.ts';

let harness: OperationsHarness;

beforeAll(async () => {
  harness = await startHarness();
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

const AUDIT_LOG = `query ($filter: AuditLogFilter, $first: Int, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id at type service actorId subjectId ip outcome details } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}`;

interface AuditPage {
  auditLog: {
    edges: Array<{
      cursor: string;
      node: { id: string; type: string; outcome: string; details: Record<string, unknown> };
    }>;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  };
}

async function auditRows() {
  return harness.running.app.db.selectFrom('audit_events').selectAll().orderBy('at').execute();
}

describe('the audit consumer', () => {
  const user = randomUUID();
  const secrets = {
    password: 'Correct-Horse-Battery-Staple-42',
    jwt: 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
    providerKey: 'sk-live-0123456789abcdefghij',
    session: 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u',
  };

  it('copies events from the stream into PostgreSQL, in order, each once, with no secret in them', async () => {
    const audit = createAuditLog(harness.redis, { service: 'auth', prefix: harness.prefix });
    audit.record({
      type: 'auth.login',
      actorId: user,
      subjectId: user,
      ip: '10.0.0.1',
      outcome: 'success',
      details: {},
    });
    audit.record({
      type: 'auth.login_failed',
      actorId: null,
      subjectId: user,
      ip: '10.0.0.2',
      outcome: 'failure',
      // A call site passing credentials by mistake: the helper and the consumer both refuse them.
      details: {
        password: secrets.password,
        accessToken: secrets.jwt,
        note: `tried ${secrets.providerKey}`,
        echoed: secrets.session,
        reason: 'wrong password',
      },
    });
    await audit.flush();
    // A writer that skipped the helper: the consumer drops and redacts the same way.
    const stream = `${harness.prefix}${AUDIT_STREAM}`;
    const raw = {
      id: randomUUID(),
      at: new Date().toISOString(),
      type: 'auth.password_changed',
      service: 'rogue',
      actorId: user,
      subjectId: user,
      ip: null,
      outcome: 'success',
      details: { newPassword: secrets.password, apiKey: secrets.providerKey, hint: secrets.jwt },
    };
    await harness.redis.xadd(stream, '*', 'event', JSON.stringify(raw));
    // The same entry again (a second producer retrying): stored once.
    await harness.redis.xadd(stream, '*', 'event', JSON.stringify(raw));
    // Malformed entries are skipped; the consumer goes on.
    await harness.redis.xadd(stream, '*', 'event', '{not json');
    await harness.redis.xadd(stream, '*', 'event', JSON.stringify({ ...raw, id: 'not-a-uuid' }));
    await harness.redis.xadd(stream, '*', 'other', 'field');
    const last = { ...raw, id: randomUUID(), type: 'admin.action', details: { action: 'looked' } };
    await harness.redis.xadd(stream, '*', 'event', JSON.stringify(last));

    const rows = await eventually(async () => {
      const found = (await auditRows()).filter((row) => row.subject_id === user);
      return found.some((row) => row.id === last.id) ? found : undefined;
    });
    expect(rows.map((row) => row.type)).toEqual([
      'auth.login',
      'auth.login_failed',
      'auth.password_changed',
      'admin.action',
    ]);
    const failed = rows.find((row) => row.type === 'auth.login_failed')!;
    expect(failed).toMatchObject({ outcome: 'failure', ip: '10.0.0.2', service: 'auth', actor_id: null });
    expect(failed.details).toEqual({ note: '[redacted]', echoed: '[redacted]', reason: 'wrong password' });
    expect(rows.find((row) => row.type === 'auth.password_changed')!.details).toEqual({ hint: '[redacted]' });

    const everything = JSON.stringify(await auditRows());
    for (const secret of Object.values(secrets)) expect(everything).not.toContain(secret);

    const offset = await harness.running.app.db
      .selectFrom('stream_offsets')
      .selectAll()
      .where('stream', '=', stream)
      .executeTakeFirstOrThrow();
    const ids = (await harness.redis.xrange(stream, '-', '+')).map(([id]) => id);
    expect(offset.last_id).toBe(ids.at(-1));
  });

  it('resumes from its stored offset after a restart, and a second instance stores nothing twice', async () => {
    await harness.running.app.consumers.audit.stop();
    const audit = createAuditLog(harness.redis, { service: 'knowledge', prefix: harness.prefix });
    const subject = randomUUID();
    for (let index = 0; index < 5; index++)
      audit.record({
        type: 'admin.action',
        actorId: null,
        subjectId: subject,
        ip: null,
        outcome: 'success',
        details: { index },
      });
    await audit.flush();
    const second = await harness.startInstance();
    harness.running.app.consumers.audit.start();
    const rows = await eventually(async () => {
      const found = (await auditRows()).filter((row) => row.subject_id === subject);
      return found.length === 5 ? found : undefined;
    });
    expect(rows.map((row) => row.details['index'])).toEqual([0, 1, 2, 3, 4]);
    await second.stop();
  });

  it('pages newest first with filters; bad filters and cursors are BAD_USER_INPUT', async () => {
    const subject = randomUUID();
    const audit = createAuditLog(harness.redis, { service: 'auth', prefix: harness.prefix });
    const base = Date.parse('2026-06-01T00:00:00.000Z');
    for (let index = 0; index < 5; index++) {
      audit.record({
        type: index % 2 === 0 ? 'auth.login' : 'auth.login_failed',
        at: new Date(base + index * 1000).toISOString(),
        actorId: subject,
        subjectId: subject,
        ip: null,
        outcome: index % 2 === 0 ? 'success' : 'failure',
        details: { index },
      });
    }
    await audit.flush();
    await eventually(async () =>
      (await auditRows()).filter((row) => row.subject_id === subject).length === 5 ? true : undefined,
    );
    const first = await harness.call<AuditPage>(AUDIT_LOG, { filter: { subjectId: subject }, first: 2 });
    expect(first.errors).toBeUndefined();
    expect(first.data!.auditLog.edges.map((edge) => edge.node.details['index'])).toEqual([4, 3]);
    expect(first.data!.auditLog.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const next = await harness.call<AuditPage>(AUDIT_LOG, {
      filter: { subjectId: subject },
      first: 2,
      after: first.data!.auditLog.pageInfo.endCursor,
    });
    expect(next.data!.auditLog.edges.map((edge) => edge.node.details['index'])).toEqual([2, 1]);
    expect(next.data!.auditLog.pageInfo.hasPreviousPage).toBe(true);

    const failures = await harness.call<AuditPage>(AUDIT_LOG, {
      filter: { actorId: subject, outcome: 'FAILURE', type: 'auth.login_failed' },
    });
    expect(failures.data!.auditLog.edges.map((edge) => edge.node.details['index'])).toEqual([3, 1]);
    expect(failures.data!.auditLog.edges.every((edge) => edge.node.outcome === 'FAILURE')).toBe(true);
    const ranged = await harness.call<AuditPage>(AUDIT_LOG, {
      filter: {
        subjectId: subject,
        from: new Date(base + 1000).toISOString(),
        to: new Date(base + 3000).toISOString(),
      },
    });
    expect(ranged.data!.auditLog.edges.map((edge) => edge.node.details['index'])).toEqual([2, 1]);
    const byService = await harness.call<AuditPage>(AUDIT_LOG, {
      filter: { subjectId: subject, service: 'knowledge' },
    });
    expect(byService.data!.auditLog.edges).toEqual([]);

    for (const variables of [
      { first: 0 },
      { first: 101 },
      { after: 'bm90IGEgY3Vyc29y' },
      { after: 'x'.repeat(600) },
      { filter: { from: '2026-06-02T00:00:00Z', to: '2026-06-01T00:00:00Z' } },
      { filter: { type: 'a'.repeat(101) } },
    ]) {
      const refused = await harness.call(AUDIT_LOG, variables);
      expect(refused.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
    }
  });

  it('is for operators only', async () => {
    const refused = await harness.call(AUDIT_LOG, {}, userIdentity());
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await harness.call(AUDIT_LOG, {}, null);
    expect(anonymous.status).toBe(401);
  });
});

const USAGE_REPORT = `query ($from: DateTime!, $to: DateTime!, $groupBy: [UsageGroupBy!]) {
  usageReport(from: $from, to: $to, groupBy: $groupBy) { operationName day requests errors errorRate p95LatencyMs }
}`;
const USER_USAGE = `query ($representations: [_Any!]!, $from: DateTime!, $to: DateTime!) {
  _entities(representations: $representations) {
    ... on User { id usage(from: $from, to: $to) { requests errors byOperation { operationName requests errors p95LatencyMs } } }
  }
}`;

describe('the usage consumer and reports', () => {
  const alice = randomUUID();
  const bob = randomUUID();
  const from = '2026-05-01T00:00:00.000Z';
  const to = '2026-05-03T00:00:00.000Z';

  beforeAll(async () => {
    const recorder = createUsageRecorder(harness.redis, { prefix: harness.prefix, flushMs: 50 });
    const record = (overrides: Partial<Omit<UsageRecord, 'id'>>) =>
      recorder.record({
        at: '2026-05-01T10:00:00.000Z',
        userId: alice,
        operationName: 'Search',
        operationType: 'query',
        status: 'ok',
        errorCodes: [],
        latencyMs: 10,
        subgraphs: ['knowledge'],
        ...overrides,
      });
    // Day 1: Search ×10 by alice, latencies 10..100, two of them errors.
    for (let index = 1; index <= 10; index++)
      record({ latencyMs: index * 10, ...(index > 8 ? { status: 'error', errorCodes: ['BAD_USER_INPUT'] } : {}) });
    // Day 2: Login ×2 by bob, Search ×1 by alice; one outside the range.
    record({
      at: '2026-05-02T08:00:00.000Z',
      userId: bob,
      operationName: 'Login',
      operationType: 'mutation',
      latencyMs: 30,
    });
    record({
      at: '2026-05-02T09:00:00.000Z',
      userId: bob,
      operationName: 'Login',
      operationType: 'mutation',
      latencyMs: 50,
    });
    record({ at: '2026-05-02T10:00:00.000Z', latencyMs: 7 });
    record({ at: '2026-05-04T10:00:00.000Z', latencyMs: 7 });
    await recorder.close();
    // A malformed record (negative latency) is skipped, not a stuck consumer.
    await harness.redis.xadd(
      `${harness.prefix}${USAGE_STREAM}`,
      '*',
      'record',
      JSON.stringify({
        id: randomUUID(),
        at: from,
        userId: null,
        operationName: null,
        operationType: 'query',
        status: 'ok',
        errorCodes: [],
        latencyMs: -1,
        subgraphs: [],
      }),
    );
    await eventually(async () => {
      const rows = await harness.running.app.db.selectFrom('usage_records').select('id').execute();
      return rows.length === 14 ? true : undefined;
    });
  });

  it('reports requests, error rate and p95 latency per operation per day', async () => {
    const report = await harness.call<{ usageReport: unknown[] }>(USAGE_REPORT, { from, to });
    expect(report.errors).toBeUndefined();
    expect(report.data!.usageReport).toEqual([
      { operationName: 'Search', day: '2026-05-01', requests: 10, errors: 2, errorRate: 0.2, p95LatencyMs: 95.5 },
      { operationName: 'Login', day: '2026-05-02', requests: 2, errors: 0, errorRate: 0, p95LatencyMs: 49 },
      { operationName: 'Search', day: '2026-05-02', requests: 1, errors: 0, errorRate: 0, p95LatencyMs: 7 },
    ]);
    const byOperation = await harness.call<{ usageReport: unknown[] }>(USAGE_REPORT, {
      from,
      to,
      groupBy: ['OPERATION'],
    });
    expect(byOperation.data!.usageReport).toMatchObject([
      { operationName: 'Search', day: null, requests: 11, errors: 2 },
      { operationName: 'Login', day: null, requests: 2, errors: 0 },
    ]);
    const total = await harness.call<{ usageReport: unknown[] }>(USAGE_REPORT, { from, to, groupBy: [] });
    expect(total.data!.usageReport).toMatchObject([{ operationName: null, day: null, requests: 13, errors: 2 }]);
  });

  it("gives a user their own usage, an operator anyone's, and nobody else's", async () => {
    const variables = { representations: [{ __typename: 'User', id: alice }], from, to };
    const own = await harness.call<{ _entities: Array<{ usage: unknown }> }>(
      USER_USAGE,
      variables,
      userIdentity({ id: alice }),
    );
    expect(own.errors).toBeUndefined();
    expect(own.data!._entities[0]!.usage).toEqual({
      requests: 11,
      errors: 2,
      byOperation: [{ operationName: 'Search', requests: 11, errors: 2, p95LatencyMs: 95 }],
    });
    const operator = await harness.call<{ _entities: Array<{ usage: { requests: number } }> }>(
      USER_USAGE,
      variables,
      adminIdentity(),
    );
    expect(operator.data!._entities[0]!.usage.requests).toBe(11);
    const other = await harness.call(USER_USAGE, variables, userIdentity({ id: bob }));
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await harness.call(USER_USAGE, variables, null);
    expect(anonymous.status).toBe(401);
  });

  it('refuses a range that is backwards, empty or longer than 93 days', async () => {
    for (const range of [
      { from: to, to: from },
      { from, to: from },
      { from: '2026-01-01T00:00:00Z', to: '2026-04-05T00:00:00Z' },
    ]) {
      const report = await harness.call(USAGE_REPORT, range);
      expect(report.errors?.[0]?.extensions?.code, JSON.stringify(range)).toBe('BAD_USER_INPUT');
      const own = await harness.call(
        USER_USAGE,
        { ...range, representations: [{ __typename: 'User', id: alice }] },
        userIdentity({ id: alice }),
      );
      expect(own.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const notADate = await harness.call(USAGE_REPORT, { from: 'yesterday', to });
    expect(notADate.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('is for operators only', async () => {
    const refused = await harness.call(USAGE_REPORT, { from, to }, userIdentity());
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('retention', () => {
  it('deletes usage and audit rows past their retention, in batches, and keeps the rest', async () => {
    const db = harness.running.app.db;
    // Before the other tests' rows (May 2026 and later), so only this test's rows are old enough.
    const now = new Date('2026-05-01T00:00:00.000Z');
    const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);
    const usage = (at: Date) => ({
      id: randomUUID(),
      at,
      user_id: null,
      operation_name: 'Prune',
      operation_type: 'query' as const,
      status: 'ok' as const,
      latency_ms: 1,
    });
    const audit = (at: Date) => ({
      id: randomUUID(),
      at,
      type: 'admin.action',
      service: 'prune-test',
      actor_id: null,
      subject_id: null,
      ip: null,
      outcome: 'success' as const,
      details: '{}',
    });
    await db
      .insertInto('usage_records')
      .values([usage(daysAgo(40)), usage(daysAgo(31)), usage(daysAgo(35)), usage(daysAgo(29))])
      .execute();
    await db
      .insertInto('audit_events')
      .values([audit(daysAgo(400)), audit(daysAgo(366)), audit(daysAgo(364))])
      .execute();

    const report = await pruneExpired(db, { usageDays: 30, auditDays: 365 }, { now, batch: 2 });
    expect(report).toEqual({ usage: 3, audit: 2 });
    const keptUsage = await db.selectFrom('usage_records').select('at').where('operation_name', '=', 'Prune').execute();
    expect(keptUsage.map((row) => new Date(row.at).toISOString())).toEqual([daysAgo(29).toISOString()]);
    const keptAudit = await db.selectFrom('audit_events').select('at').where('service', '=', 'prune-test').execute();
    expect(keptAudit.map((row) => new Date(row.at).toISOString())).toEqual([daysAgo(364).toISOString()]);
    expect(await pruneExpired(db, { usageDays: 30, auditDays: 365 }, { now, batch: 2 })).toEqual({
      usage: 0,
      audit: 0,
    });
  });
});
