import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { sql } from 'kysely';
import { deleteKeys } from '@supergraph/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseSpec as authDatabaseSpec, defaultAuthConfig, startAuthSubgraph } from '@supergraph/auth';
import {
  createDatabase,
  createTestDatabase,
  migrateAll,
  urlForRole,
  type DatabaseTarget,
  type TestDatabase,
} from '@supergraph/db';
import { startGateway, type RunningGateway } from '@supergraph/gateway';
import { type RunningSubgraph } from '@supergraph/kit';
import {
  createRedis,
  generateInternalKeyPair,
  generateSigningJwk,
  importInternalSigningKey,
  importInternalVerifyKey,
  type Redis,
} from '@supergraph/platform';
import {
  databaseSpec as storageDatabaseSpec,
  seedStorageUnits,
  startStorageUnitsSubgraph,
  UNITS,
} from '@supergraph/storage-units';
import { AUDIENCE, ISSUER, LOGIN, REGISTER, firstCode, newUser, postGraphQL, type GraphQLResult } from './harness.ts';

/*
 * storage-units through the real gateway: the real auth subgraph and the real
 * storage-units subgraph on port 0, composed into a supergraph of just those
 * two (other subgraphs may be under construction), on a fresh database (real
 * PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set, PGlite and an
 * in-process Redis otherwise), each subgraph logging in as its own role.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function composeAuthWithStorageUnits(): string {
  const sdl = (name: string) =>
    parse(readFileSync(path.join(root, 'subgraphs', name, 'src', 'schema.graphql'), 'utf8'));
  const result = composeServices([
    { name: 'auth', url: 'http://127.0.0.1:4001/graphql', typeDefs: sdl('auth') },
    { name: 'storage-units', url: 'http://127.0.0.1:4003/graphql', typeDefs: sdl('storage-units') },
  ]);
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join('\n'));
  return result.supergraphSdl;
}

interface User {
  userId: string;
  username: string;
  password: string;
  accessToken: string;
}

let db: TestDatabase;
let redis: Redis;
let auth: RunningSubgraph;
let storage: RunningSubgraph;
let gateway: RunningGateway;
let storageRequests = 0;
const stoppers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  db = await createTestDatabase(process.env['DATABASE_URL']);
  stoppers.push(() => db.drop());
  await migrateAll(db.target, [authDatabaseSpec, storageDatabaseSpec]);
  // The first 20,000 WordNet synsets: a few records in every unit.
  await seedStorageUnits(db.target, { limit: 20_000, progress: false });
  const asRole = (role: string): DatabaseTarget =>
    db.url ? { kind: 'postgres', url: urlForRole(db.url, role) } : db.target;

  const internal = generateInternalKeyPair();
  const verifyKey = await importInternalVerifyKey(internal.publicKeyPem);
  const config = await defaultAuthConfig({
    signingKeys: [await generateSigningJwk()],
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  redis = await createRedis(process.env['REDIS_URL']);
  stoppers.push(async () => redis.disconnect());
  // A fresh key space per run for both subgraphs: counters of earlier runs on a shared Redis must not leak in.
  const runPrefix = `test:e2e:storage-units:${randomBytes(6).toString('hex')}:`;
  stoppers.push(async () => void (await deleteKeys(redis, runPrefix)));
  auth = await startAuthSubgraph(
    {
      target: asRole(authDatabaseSpec.role),
      internalTokenKey: verifyKey,
      config,
      redis,
      rateLimits: { prefix: `${runPrefix}auth:` },
    },
    0,
  );
  stoppers.push(() => auth.stop());
  storage = await startStorageUnitsSubgraph(
    {
      target: asRole(storageDatabaseSpec.role),
      internalTokenKey: verifyKey,
      redis,
      rateLimits: { prefix: runPrefix },
    },
    0,
  );
  stoppers.push(() => storage.stop());
  storage.http.on('request', () => storageRequests++);

  gateway = await startGateway(
    {
      supergraphSdl: composeAuthWithStorageUnits(),
      internalTokenKey: await importInternalSigningKey(internal.privateKeyPem),
      auth: { issuer: ISSUER, audience: AUDIENCE },
      subgraphUrls: { auth: auth.url, 'storage-units': storage.url },
    },
    0,
  );
  stoppers.push(() => gateway.stop());
});

afterAll(async () => {
  for (const stop of stoppers.reverse())
    await stop().catch((error: unknown) => console.error('[e2e] stop failed', error));
});

function gql(
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<GraphQLResult> {
  return postGraphQL(gateway.url, { query, ...(variables ? { variables } : {}) }, headers);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function registerAndLogin(prefix: string): Promise<User> {
  const input = newUser(prefix);
  const registered = await gql(REGISTER, { input });
  expect(registered.body.errors).toBeUndefined();
  const login = await gql(LOGIN, { input: { usernameOrEmail: input.username, password: input.password } });
  expect(login.body.errors).toBeUndefined();
  const payload = login.body.data?.['login'] as { accessToken: string; user: { id: string } };
  return {
    userId: payload.user.id,
    username: input.username,
    password: input.password,
    accessToken: payload.accessToken,
  };
}

const STORE = /* GraphQL */ `
  mutation Store($unitId: ID!, $input: UnitRecordInput!) {
    storeRecord(unitId: $unitId, input: $input) {
      id
      title
      unit {
        id
      }
    }
  }
`;

const SEARCH_UNIT = /* GraphQL */ `
  query Search($unitId: ID!, $query: String!) {
    searchUnit(unitId: $unitId, query: $query) {
      totalCount
      edges {
        node {
          snippet
          unit {
            id
          }
          record {
            id
            title
            author {
              id
              username
            }
          }
        }
      }
    }
  }
`;

const MAINTENANCE =
  'mutation { runUnitMaintenance(unitId: "physics", action: ANALYZE) { unit { id } action durationMs } }';

describe('anonymous reads through the gateway', () => {
  it('lists every storage unit', async () => {
    const result = await gql('{ storageUnits { id name domains createdAt } }');
    expect(result.body.errors).toBeUndefined();
    const units = result.body.data?.['storageUnits'] as Array<{ id: string; createdAt: string }>;
    expect(units.map((unit) => unit.id)).toEqual(UNITS.map((unit) => unit.id));
    expect(Number.isNaN(Date.parse(units[0]!.createdAt))).toBe(false);
  });

  it('reports the facility as operational with the seeded records', async () => {
    const result = await gql(
      '{ facilityStatus { health unitsOnline unitsTotal totalRecords totalSizeBytes checkedAt } }',
    );
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data?.['facilityStatus']).toMatchObject({
      health: 'OPERATIONAL',
      unitsOnline: UNITS.length,
      unitsTotal: UNITS.length,
    });
    const status = result.body.data?.['facilityStatus'] as { totalRecords: number; totalSizeBytes: number };
    expect(status.totalRecords).toBeGreaterThan(0);
    expect(status.totalSizeBytes).toBeGreaterThan(0);
  });

  it('searches every unit and finds a seeded record', async () => {
    const reader = createDatabase<{ records: { title: string } }>(db.target, { schema: 'physics_unit' });
    let title: string;
    try {
      const { rows } = await sql<{
        title: string;
      }>`select title from physics_unit.records order by title limit 1`.execute(reader.db);
      title = rows[0]!.title;
    } finally {
      await reader.close();
    }
    const result = await gql(
      'query($query: String!) { searchAllUnits(query: $query, first: 50) { rank snippet unit { id } record { title author { id } } } }',
      { query: `"${title}"` },
    );
    expect(result.body.errors).toBeUndefined();
    const hits = result.body.data?.['searchAllUnits'] as Array<{
      rank: number;
      unit: { id: string };
      record: { title: string; author: null };
    }>;
    expect(hits).toContainEqual(expect.objectContaining({ unit: { id: 'physics' }, record: { title, author: null } }));
    expect(hits.every((hit) => hit.rank > 0)).toBe(true);
  });
});

describe('writes through the gateway', () => {
  it('refuses storeRecord anonymously with UNAUTHENTICATED before calling storage-units', async () => {
    const before = storageRequests;
    const result = await gql(STORE, { unitId: 'physics', input: { title: 't', content: 'c' } });
    expect(firstCode(result)).toBe('UNAUTHENTICATED');
    expect(result.body.data ?? null).toBeNull();
    expect(storageRequests).toBe(before);
  });

  it('refuses storeRecord with FORBIDDEN for an API key without storage:write', async () => {
    const owner = await registerAndLogin('keyowner');
    const created = await gql(
      'mutation($name: String!, $scopes: [String!]!) { createApiKey(name: $name, scopes: $scopes) { key } }',
      { name: 'read-only storage', scopes: ['storage:read', 'profile:read'] },
      bearer(owner.accessToken),
    );
    expect(created.body.errors).toBeUndefined();
    const key = (created.body.data?.['createApiKey'] as { key: string }).key;

    const before = storageRequests;
    const result = await gql(STORE, { unitId: 'physics', input: { title: 't', content: 'c' } }, { 'x-api-key': key });
    expect(result.status).toBe(403);
    expect(firstCode(result)).toBe('FORBIDDEN');
    expect(storageRequests).toBe(before);

    // The same key still reads.
    const read = await gql('{ storageUnits { id } }', undefined, { 'x-api-key': key });
    expect(read.body.errors).toBeUndefined();
  });

  it('stores a record, then finds it with its author resolved by the auth subgraph', async () => {
    const writer = await registerAndLogin('writer');
    const before = storageRequests;
    const word = `zyxquark${randomBytes(4).toString('hex')}`;
    const stored = await gql(
      STORE,
      {
        unitId: 'quantum',
        input: { title: `Notes on ${word}`, content: `The ${word} decays into two photons.`, tags: ['e2e'] },
      },
      bearer(writer.accessToken),
    );
    expect(stored.body.errors).toBeUndefined();
    const record = stored.body.data?.['storeRecord'] as { id: string; unit: { id: string } };
    expect(record.unit.id).toBe('quantum');
    // The counter behind the "before calling storage-units" checks sees the calls that do happen.
    expect(storageRequests).toBeGreaterThan(before);

    // Anonymous search: the author's public username still comes from auth.
    const found = await gql(SEARCH_UNIT, { unitId: 'quantum', query: word });
    expect(found.body.errors).toBeUndefined();
    const connection = found.body.data?.['searchUnit'] as {
      totalCount: number;
      edges: Array<{
        node: {
          snippet: string;
          unit: { id: string };
          record: { id: string; author: { id: string; username: string } };
        };
      }>;
    };
    expect(connection.totalCount).toBe(1);
    expect(connection.edges[0]?.node).toMatchObject({
      unit: { id: 'quantum' },
      record: { id: record.id, author: { id: writer.userId, username: writer.username } },
    });
    expect(connection.edges[0]?.node.snippet).toContain(`<b>${word}</b>`);

    // And the other direction: auth's `me` extended with storage-units' `storedRecords`.
    const mine = await gql(
      '{ me { username storedRecords { totalCount edges { node { id } } } } }',
      undefined,
      bearer(writer.accessToken),
    );
    expect(mine.body.errors).toBeUndefined();
    expect(mine.body.data?.['me']).toEqual({
      username: writer.username,
      storedRecords: { totalCount: 1, edges: [{ node: { id: record.id } }] },
    });
  });
});

describe('admin operations and errors through the gateway', () => {
  it('refuses runUnitMaintenance to a non-admin with FORBIDDEN before calling storage-units', async () => {
    const user = await registerAndLogin('notadmin');
    const before = storageRequests;
    const result = await gql(MAINTENANCE, undefined, bearer(user.accessToken));
    expect(result.status).toBe(403);
    expect(firstCode(result)).toBe('FORBIDDEN');
    expect(storageRequests).toBe(before);
  });

  it('runs maintenance for an admin', async () => {
    const admin = await registerAndLogin('admin');
    // No API makes the first admin: promote in the database, as an operator would, then log in again for the scopes.
    const owner = createDatabase<{ users: { id: string; role: string } }>(db.target, { schema: 'auth' });
    try {
      await sql`update auth.users set role = 'admin' where id = ${admin.userId}`.execute(owner.db);
    } finally {
      await owner.close();
    }
    const login = await gql(LOGIN, { input: { usernameOrEmail: admin.username, password: admin.password } });
    expect(login.body.errors).toBeUndefined();
    const token = (login.body.data?.['login'] as { accessToken: string }).accessToken;
    const result = await gql(MAINTENANCE, undefined, bearer(token));
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data?.['runUnitMaintenance']).toMatchObject({ unit: { id: 'physics' }, action: 'ANALYZE' });
  });

  it('answers NOT_FOUND with the valid unit ids for an unknown unit', async () => {
    const result = await gql(SEARCH_UNIT, { unitId: 'alchemy', query: 'gold' });
    expect(firstCode(result)).toBe('NOT_FOUND');
    expect(result.body.errors?.[0]?.extensions?.['validUnitIds']).toEqual(UNITS.map((unit) => unit.id));
    expect(result.body.errors?.[0]?.message).toContain('alchemy');
  });
});
