import { SignJWT, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createUsageRecorder,
  DEFAULT_SETTINGS,
  loadScopeCatalog,
  parseUsageEntry,
  publishSettings,
  subscribeToSettings,
  USAGE_STREAM,
  type SettingsSource,
  type UsageRecord,
  type UsageRecorder,
} from '@supergraph/platform';
import type { RunningGateway } from '@supergraph/gateway';
import { AUDIENCE, ISSUER, newUser, postGraphQL, REGISTER, startStack, type Stack } from './harness.ts';

const MESSAGE = 'Upgrading the database; back at 10:00 UTC';

let stack: Stack;
let settings: SettingsSource;
let usage: UsageRecorder;
let gateway: RunningGateway;
let version = 0;

beforeAll(async () => {
  stack = await startStack({ supergraph: 'all' });
  // As a gateway process would: its own subscription under the run's prefix, and a usage recorder.
  settings = await subscribeToSettings(stack.redis, { prefix: stack.keyPrefix });
  usage = createUsageRecorder(stack.redis, { prefix: stack.keyPrefix, flushMs: 50 });
  gateway = await stack.startGatewayWith({ settings, usage });
});

afterAll(async () => {
  await usage?.close();
  await settings?.close();
  await stack?.stop();
});

async function setMaintenance(enabled: boolean): Promise<void> {
  version += 1;
  await publishSettings(
    stack.redis,
    {
      version,
      updatedAt: new Date().toISOString(),
      values: { ...DEFAULT_SETTINGS, maintenance: { enabled, message: enabled ? MESSAGE : '' } },
    },
    { prefix: stack.keyPrefix },
  );
  const deadline = Date.now() + 10_000;
  while (settings.version() < version) {
    if (Date.now() > deadline) throw new Error('the settings snapshot did not arrive');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const gql = (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
  postGraphQL(gateway.url, { query, ...(variables ? { variables } : {}) }, headers);

/** An access token as auth would sign it for an operator (every admin scope, ops:admin included). */
async function operatorToken(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const catalog = loadScopeCatalog();
  return new SignJWT({
    sid: 'ops',
    roles: ['admin'],
    tier: 'enterprise',
    scope: [...catalog.user, ...catalog.admin].join(' '),
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: stack.signingJwk.kid!, typ: 'at+jwt' })
    .setSubject('00000000-0000-4000-8000-000000000001')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(await importJWK(stack.signingJwk, 'EdDSA'));
}

describe('maintenance mode at the gateway (live settings)', () => {
  it('refuses every mutation with 503 MAINTENANCE and the message while on, keeps queries, and lifts without a restart', async () => {
    expect((await gql(REGISTER, { input: newUser('before') })).body.errors).toBeUndefined();

    await setMaintenance(true);
    const refused = await gql(REGISTER, { input: newUser('during') });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(refused.body.errors).toHaveLength(1);
    expect(refused.body.errors?.[0]).toMatchObject({ message: MESSAGE, extensions: { code: 'MAINTENANCE' } });
    expect(refused.body.data ?? null).toBeNull();
    expect(JSON.stringify(refused.body)).not.toMatch(/stack|http/);

    // A document mixing an exempt root field with another mutation is refused whole.
    const mixed = await gql('mutation { logout updateSetting(key: "maintenance", value: {}) { version } }', undefined, {
      authorization: `Bearer ${await operatorToken()}`,
    });
    expect(mixed.body.errors?.[0]?.extensions?.['code']).toBe('MAINTENANCE');

    // Queries still work.
    const query = await gql('query Me { me { id } }');
    expect(query.status).toBe(200);
    expect(query.body).toEqual({ data: { me: null } });

    // updateSetting passes maintenance (operations is not running in this stack, so it fails later, not here).
    const lift = await gql(
      'mutation Lift($value: JSON!) { updateSetting(key: "maintenance", value: $value) { version } }',
      { value: { enabled: false, message: '' } },
      { authorization: `Bearer ${await operatorToken()}` },
    );
    expect(lift.body.errors?.[0]?.extensions?.['code']).not.toBe('MAINTENANCE');
    expect(lift.status).not.toBe(503);

    await setMaintenance(false);
    expect((await gql(REGISTER, { input: newUser('after') })).body.errors).toBeUndefined();
  });

  it('records one usage record per operation: user, name, type, status, codes, latency and the subgraphs called', async () => {
    await setMaintenance(true);
    await gql(REGISTER, { input: newUser('usage') });
    await setMaintenance(false);
    await gql('query UsageProbe { me { id } }');
    await usage.flush();
    const stream = `${stack.keyPrefix}${USAGE_STREAM}`;
    let records: UsageRecord[] = [];
    const deadline = Date.now() + 10_000;
    while (!records.some((record) => record.operationName === 'UsageProbe')) {
      if (Date.now() > deadline) throw new Error('no usage record');
      await new Promise((resolve) => setTimeout(resolve, 20));
      records = (await stack.redis.xrange(stream, '-', '+'))
        .map(([, fields]) => parseUsageEntry(fields))
        .filter((record) => record !== null);
    }
    expect(records.find((record) => record.operationName === 'UsageProbe')).toMatchObject({
      userId: null,
      operationType: 'query',
      status: 'ok',
      errorCodes: [],
      subgraphs: ['auth'],
    });
    const maintenance = records.find((record) => record.errorCodes.includes('MAINTENANCE'));
    expect(maintenance).toMatchObject({
      operationName: 'Register',
      operationType: 'mutation',
      status: 'error',
      subgraphs: [],
    });
    for (const record of records) expect(record.latencyMs).toBeGreaterThanOrEqual(0);
  });
});

// The bare stack's gateway (no settings) never enters maintenance: settings are opt-in per gateway.
describe('a gateway without live settings', () => {
  it('runs mutations whatever the stream says', async () => {
    await setMaintenance(true);
    try {
      expect((await stack.gql(REGISTER, { input: newUser('bare') })).body.errors).toBeUndefined();
    } finally {
      await setMaintenance(false);
    }
  });
});
