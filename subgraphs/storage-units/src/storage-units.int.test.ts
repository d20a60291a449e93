import { randomUUID } from 'node:crypto';
import { createDatabase } from '@supergraph/db';
import { readWordnetSynsets } from '@supergraph/seeding';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminIdentity,
  anonymousIdentity,
  startHarness,
  userIdentity,
  type StorageUnitsHarness,
} from './testing/harness.ts';
import { synsetMatchesUnit } from './seed.ts';
import { UNITS } from './units.ts';

/** The seed reads only the first this many WordNet synsets: a handful of records in every unit. */
const SEED_SYNSETS = 20_000;
/** Per unit, how many of those synsets match it: what the seed must have stored. */
const seededPerUnit = new Map<string, number>();
let harness: StorageUnitsHarness;

beforeAll(async () => {
  let read = 0;
  for await (const synset of readWordnetSynsets()) {
    if (read++ === SEED_SYNSETS) break;
    for (const unit of UNITS) {
      if (synsetMatchesUnit(synset, unit)) seededPerUnit.set(unit.id, (seededPerUnit.get(unit.id) ?? 0) + 1);
    }
  }
  harness = await startHarness({ seedLimit: SEED_SYNSETS });
});

function seeded(unitId: string): number {
  return seededPerUnit.get(unitId) ?? 0;
}

afterAll(async () => {
  await harness?.stop();
});

/** A writer on the enterprise tier (store 200/h) so setup never meets the free-tier limit. */
const writer = userIdentity(randomUUID(), 'enterprise');

const STORE = /* GraphQL */ `
  mutation Store($unitId: ID!, $input: UnitRecordInput!) {
    storeRecord(unitId: $unitId, input: $input) {
      id
      title
      content
      tags
      source
      unit {
        id
      }
      author {
        id
      }
      createdAt
    }
  }
`;

async function store(
  unitId: string,
  input: Record<string, unknown>,
  identity = writer,
): Promise<{ id: string; title: string; content: string; tags: string[] }> {
  const response = await harness.call<{ storeRecord: { id: string; title: string; content: string; tags: string[] } }>(
    identity,
    STORE,
    { unitId, input },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.storeRecord;
}

function firstError(response: { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }) {
  expect(response.errors?.length).toBeGreaterThan(0);
  return response.errors![0]!;
}

describe('units and seed', () => {
  it('keeps every unit in its own schema, seeded from WordNet', async () => {
    const admin = createDatabase<unknown>(harness.testDb.target, { schema: 'public' });
    try {
      const { rows } = await sql<{ nspname: string; records: number }>`
        select n.nspname, (select count(*)::int from pg_class c where c.relnamespace = n.oid and c.relname = 'records') as records
        from pg_namespace n where n.nspname like '%\\_unit' order by n.nspname
      `.execute(admin.db);
      expect(rows.map((row) => row.nspname).sort()).toEqual(UNITS.map((unit) => unit.schema).sort());
      expect(rows.every((row) => row.records === 1)).toBe(true);
      for (const unit of UNITS) {
        const count = await sql<{
          n: number;
        }>`select count(*)::int as n from ${sql.id(unit.schema, 'records')} where external_id like 'wordnet:%'`.execute(
          admin.db,
        );
        expect(count.rows[0]?.n, unit.id).toBe(seeded(unit.id));
      }
      const registry = await sql<{
        id: string;
        schema_name: string;
      }>`select id, schema_name from storage_registry.units order by id`.execute(admin.db);
      expect(registry.rows).toEqual(
        UNITS.map((unit) => ({ id: unit.id, schema_name: unit.schema })).sort((a, b) => a.id.localeCompare(b.id)),
      );
    } finally {
      await admin.close();
    }
    expect(harness.seed.read).toBe(SEED_SYNSETS);
    expect(harness.seed.units.map((unit) => unit.records)).toEqual(UNITS.map((unit) => seeded(unit.id)));
    expect(UNITS.every((unit) => seeded(unit.id) > 0)).toBe(true);
  });

  it('lists the seven units with stats', async () => {
    const response = await harness.call<{
      storageUnits: Array<{
        id: string;
        name: string;
        description: string;
        domains: string[];
        createdAt: string;
        stats: {
          records: number;
          sizeBytes: number;
          lastWriteAt: string | null;
          topTerms: Array<{ term: string; documents: number; occurrences: number }>;
          growthPerDay: Array<{ day: string; count: number }>;
        };
      }>;
    }>(
      anonymousIdentity(),
      `{ storageUnits { id name description domains createdAt stats { records sizeBytes lastWriteAt topTerms { term documents occurrences } growthPerDay { day count } } } }`,
    );
    expect(response.errors).toBeUndefined();
    const units = response.data!.storageUnits;
    expect(units.map((unit) => unit.id)).toEqual([
      'physics',
      'quantum',
      'space',
      'crypto',
      'medical',
      'reason',
      'logic',
    ]);
    for (const unit of units) {
      expect(unit.name.length).toBeGreaterThan(0);
      expect(unit.domains.length).toBeGreaterThan(0);
      expect(Date.parse(unit.createdAt)).not.toBeNaN();
      expect(unit.stats.records).toBeGreaterThanOrEqual(seeded(unit.id));
      expect(unit.stats.sizeBytes).toBeGreaterThan(0);
      expect(Date.parse(unit.stats.lastWriteAt ?? '')).not.toBeNaN();
      expect(unit.stats.topTerms.length).toBeGreaterThan(0);
      expect(unit.stats.topTerms.length).toBeLessThanOrEqual(10);
      const occurrences = unit.stats.topTerms.map((term) => term.occurrences);
      expect(occurrences).toEqual([...occurrences].sort((a, b) => b - a));
      expect(unit.stats.growthPerDay).toHaveLength(30);
      const today = new Date().toISOString().slice(0, 10);
      expect(unit.stats.growthPerDay.at(-1)).toEqual({ day: today, count: unit.stats.records });
    }
  });

  it('answers facilityStatus, storageUnit and unknown ids', async () => {
    const response = await harness.call<{
      facilityStatus: {
        health: string;
        unitsOnline: number;
        unitsTotal: number;
        totalRecords: number;
        totalSizeBytes: number;
      };
      physics: { id: string; stats: { records: number } } | null;
      nope: unknown;
    }>(
      anonymousIdentity(),
      `{ facilityStatus { health unitsOnline unitsTotal totalRecords totalSizeBytes checkedAt }
         physics: storageUnit(id: "physics") { id stats { records } }
         nope: storageUnit(id: "nope") { id } }`,
    );
    expect(response.errors).toBeUndefined();
    const status = response.data!.facilityStatus;
    expect(status).toMatchObject({ health: 'OPERATIONAL', unitsOnline: 7, unitsTotal: 7 });
    expect(status.totalRecords).toBeGreaterThanOrEqual(UNITS.reduce((sum, unit) => sum + seeded(unit.id), 0));
    expect(status.totalSizeBytes).toBeGreaterThan(0);
    expect(response.data!.physics?.stats.records).toBeGreaterThanOrEqual(seeded('physics'));
    expect(response.data!.nope).toBeNull();
  });
});

describe('search', () => {
  const token = `zorblax${Date.now().toString(36).replace(/\d/g, '')}`;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // Known order by ts_rank: title (weight A) > three content hits (B) > one content hit (B) among many words.
    ids['title'] = (
      await store('quantum', { title: `${token} primer`, content: 'An introduction to nothing in particular.' })
    ).id;
    ids['threeTimes'] = (
      await store('physics', { title: 'Field notes', content: `${token} and ${token} again, then ${token}.` })
    ).id;
    ids['once'] = (
      await store('logic', {
        title: 'Assorted remarks',
        content: `A long list of remarks that mentions ${token} exactly one time among many other words.`,
      })
    ).id;
  });

  it('ranks hits across units and names each hit’s unit', async () => {
    const response = await harness.call<{
      searchAllUnits: Array<{
        rank: number;
        snippet: string;
        unit: { id: string };
        record: { id: string; unit: { id: string } };
      }>;
    }>(
      anonymousIdentity(),
      `query($q: String!) { searchAllUnits(query: $q, first: 10) { rank snippet unit { id } record { id unit { id } } } }`,
      { q: token },
    );
    expect(response.errors).toBeUndefined();
    const hits = response.data!.searchAllUnits;
    expect(hits.map((hit) => hit.record.id)).toEqual([ids['title'], ids['threeTimes'], ids['once']]);
    expect(hits.map((hit) => hit.unit.id)).toEqual(['quantum', 'physics', 'logic']);
    expect(hits.every((hit) => hit.record.unit.id === hit.unit.id)).toBe(true);
    expect(hits[0]!.rank).toBeGreaterThan(hits[1]!.rank);
    expect(hits[1]!.rank).toBeGreaterThan(hits[2]!.rank);
    expect(hits[1]!.snippet).toContain(`<b>${token}</b>`);
  });

  it('searches one unit with web-search syntax and pages with cursors', async () => {
    const query = `query($q: String!, $after: String) { searchUnit(unitId: "physics", query: $q, first: 1, after: $after) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { rank record { id title } } } } }`;
    const extra = (await store('physics', { title: 'More notes', content: `${token} resonance cavity` })).id;
    const page1 = await harness.call<{
      searchUnit: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string };
        edges: Array<{ node: { record: { id: string } } }>;
      };
    }>(anonymousIdentity(), query, { q: token });
    expect(page1.errors).toBeUndefined();
    expect(page1.data!.searchUnit.totalCount).toBe(2);
    expect(page1.data!.searchUnit.edges.map((edge) => edge.node.record.id)).toEqual([ids['threeTimes']]);
    expect(page1.data!.searchUnit.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const page2 = await harness.call<{
      searchUnit: { pageInfo: { hasNextPage: boolean }; edges: Array<{ node: { record: { id: string } } }> };
    }>(anonymousIdentity(), query, { q: token, after: page1.data!.searchUnit.pageInfo.endCursor });
    expect(page2.data!.searchUnit.edges.map((edge) => edge.node.record.id)).toEqual([extra]);
    expect(page2.data!.searchUnit.pageInfo.hasNextPage).toBe(false);
    // Web-search syntax: exclusion and quoted phrases.
    const excluded = await harness.call<{ searchUnit: { totalCount: number } }>(
      anonymousIdentity(),
      `query($q: String!) { searchUnit(unitId: "physics", query: $q) { totalCount } }`,
      {
        q: `${token} -"resonance cavity"`,
      },
    );
    expect(excluded.data!.searchUnit.totalCount).toBe(1);
  });

  it('finds seeded WordNet records; a stop word alone matches nothing rather than failing', async () => {
    const seeded = await harness.call<{
      searchUnit: {
        totalCount: number;
        edges: Array<{ node: { snippet: string; record: { source: string; tags: string[] } } }>;
      };
    }>(
      anonymousIdentity(),
      `{ searchUnit(unitId: "medical", query: "medicine or disease or surgery or anatomy or body", first: 3) { totalCount edges { node { snippet record { source tags } } } } }`,
    );
    expect(seeded.errors).toBeUndefined();
    expect(seeded.data!.searchUnit.totalCount).toBeGreaterThan(0);
    expect(seeded.data!.searchUnit.edges[0]!.node.record.source).toBe('wordnet-3.1');
    const stopWord = await harness.call<{ searchAllUnits: unknown[] }>(
      anonymousIdentity(),
      `{ searchAllUnits(query: "the", first: 5) { rank } }`,
    );
    expect(stopWord.errors).toBeUndefined();
    expect(stopWord.data!.searchAllUnits).toEqual([]);
  });

  it('answers NOT_FOUND listing the valid ids for an unknown unit', async () => {
    const response = await harness.call(
      anonymousIdentity(),
      `{ searchUnit(unitId: "alchemy", query: "gold") { totalCount } }`,
    );
    const error = firstError(response);
    expect(error.extensions?.['code']).toBe('NOT_FOUND');
    expect(error.extensions?.['validUnitIds']).toEqual(UNITS.map((unit) => unit.id));
    expect(error.message).toContain('physics, quantum, space, crypto, medical, reason, logic');
  });

  it.each([
    ['empty query', `{ searchUnit(unitId: "physics", query: "   ") { totalCount } }`, 'query'],
    ['501-character query', `{ searchUnit(unitId: "physics", query: "${'a'.repeat(501)}") { totalCount } }`, 'query'],
    ['first 0', `{ searchUnit(unitId: "physics", query: "x", first: 0) { totalCount } }`, 'first'],
    ['first 101', `{ searchAllUnits(query: "x", first: 101) { rank } }`, 'first'],
    ['bad cursor', `{ searchUnit(unitId: "physics", query: "x", after: "not-a-cursor") { totalCount } }`, 'after'],
  ])('refuses %s with BAD_USER_INPUT', async (_name, query, field) => {
    const error = firstError(await harness.call(anonymousIdentity(), query));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('treats hostile strings as text', async () => {
    const hostile = [
      `'); drop table physics_unit.records; --`,
      `<script>alert(1)</script>`,
      `!!(&|:*'"\\`,
      `"unterminated`,
      `physics_unit.records'::regclass`,
      `ts_stat('select 1')`,
    ];
    for (const q of hostile) {
      const response = await harness.call(
        anonymousIdentity(),
        `query($q: String!) { searchAllUnits(query: $q) { rank } searchUnit(unitId: "physics", query: $q) { totalCount } }`,
        { q },
      );
      expect(response.errors, q).toBeUndefined();
    }
    const record = await store('crypto', {
      title: `'; drop schema crypto_unit cascade; -- <b>${token}</b>`,
      content: `<img src=x onerror=alert(1)> 5 & "x" ${token}`,
      tags: ["'; --", '<i>'],
    });
    expect(record.title).toBe(`'; drop schema crypto_unit cascade; -- <b>${token}</b>`);
    expect(record.tags).toEqual(["'; --", '<i>']);
    const found = await harness.call<{
      searchUnit: { edges: Array<{ node: { record: { id: string; title: string } } }> };
    }>(
      anonymousIdentity(),
      `query($q: String!) { searchUnit(unitId: "crypto", query: $q) { edges { node { record { id title } } } } }`,
      { q: token },
    );
    expect(found.data!.searchUnit.edges.map((edge) => edge.node.record.id)).toEqual([record.id]);
    const snippet = await harness.call<{ searchUnit: { edges: Array<{ node: { snippet: string } }> } }>(
      anonymousIdentity(),
      `query($q: String!) { searchUnit(unitId: "crypto", query: $q) { edges { node { snippet } } } }`,
      { q: token },
    );
    // ts_headline drops what its parser takes for tags; whatever survives is escaped, only <b> is markup.
    const html = snippet.data!.searchUnit.edges[0]!.node.snippet;
    expect(html).toContain(`<b>${token}</b>`);
    expect(html).toContain('&amp; &quot;x&quot;');
    expect(html.replaceAll('<b>', '').replaceAll('</b>', '')).not.toMatch(/[<>"]/);
    const units = await harness.call<{ storageUnits: unknown[] }>(anonymousIdentity(), `{ storageUnits { id } }`);
    expect(units.data!.storageUnits).toHaveLength(7);
  });
});

describe('store and delete', () => {
  it('stores a record authored by the caller, then only the author or an admin deletes it', async () => {
    const author = userIdentity();
    const record = await store(
      'medical',
      {
        title: '  Triage notes  ',
        content: 'Sort patients by urgency.',
        tags: ['er', 'er', ' triage '],
        source: 'ward 7',
      },
      author,
    );
    expect(record).toMatchObject({
      title: 'Triage notes',
      tags: ['er', 'triage'],
      source: 'ward 7',
      unit: { id: 'medical' },
      author: { id: author.userId },
    });

    const remove = `mutation($id: ID!) { deleteRecord(id: $id) }`;
    const stranger = await harness.call(userIdentity(), remove, { id: record.id });
    expect(firstError(stranger).extensions?.['code']).toBe('FORBIDDEN');
    const anonymous = await harness.call(anonymousIdentity(), remove, { id: record.id });
    expect(firstError(anonymous).extensions?.['code']).toBe('UNAUTHENTICATED');

    const own = await harness.call<{ deleteRecord: boolean }>(author, remove, { id: record.id });
    expect(own.data?.deleteRecord).toBe(true);
    const again = await harness.call<{ deleteRecord: boolean }>(author, remove, { id: record.id });
    expect(again.data?.deleteRecord).toBe(false);

    const other = await store('space', { title: 'Orbit log', content: 'Apogee reached.' }, author);
    const byAdmin = await harness.call<{ deleteRecord: boolean }>(adminIdentity(), remove, { id: other.id });
    expect(byAdmin.data?.deleteRecord).toBe(true);

    const malformed = await harness.call(author, remove, { id: 'not-a-uuid' });
    expect(firstError(malformed).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });

  it('refuses a seeded record to a user but not to an admin', async () => {
    const { data } = await harness.call<{
      searchUnit: { edges: Array<{ node: { record: { id: string; author: unknown } } }> };
    }>(
      anonymousIdentity(),
      `{ searchUnit(unitId: "logic", query: "logic or mathematics or statistics or geometry or arithmetic", first: 1) { edges { node { record { id author { id } } } } } }`,
    );
    const seeded = data?.searchUnit.edges[0]?.node.record;
    expect(seeded?.author).toBeNull();
    const remove = `mutation($id: ID!) { deleteRecord(id: $id) }`;
    expect(firstError(await harness.call(userIdentity(), remove, { id: seeded!.id })).extensions?.['code']).toBe(
      'FORBIDDEN',
    );
    expect(
      (await harness.call<{ deleteRecord: boolean }>(adminIdentity(), remove, { id: seeded!.id })).data?.deleteRecord,
    ).toBe(true);
  });

  it('requires storage:write', async () => {
    const readOnly = { ...userIdentity(), scopes: ['storage:read'] };
    const response = await harness.call(readOnly, STORE, { unitId: 'physics', input: { title: 't', content: 'c' } });
    expect(firstError(response).extensions?.['code']).toBe('FORBIDDEN');
  });

  it.each([
    ['unknown unit', 'mars', { title: 't', content: 'c' }, 'NOT_FOUND', 'unitId'],
    ['empty title', 'physics', { title: '  ', content: 'c' }, 'BAD_USER_INPUT', 'input.title'],
    ['501-character title', 'physics', { title: 'x'.repeat(501), content: 'c' }, 'BAD_USER_INPUT', 'input.title'],
    ['empty content', 'physics', { title: 't', content: ' ' }, 'BAD_USER_INPUT', 'input.content'],
    [
      'content over 64 KiB',
      'physics',
      { title: 't', content: 'é'.repeat(32 * 1024 + 1) },
      'BAD_USER_INPUT',
      'input.content',
    ],
    [
      '21 tags',
      'physics',
      { title: 't', content: 'c', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) },
      'BAD_USER_INPUT',
      'input.tags',
    ],
    [
      '65-character tag',
      'physics',
      { title: 't', content: 'c', tags: ['ok', 'y'.repeat(65)] },
      'BAD_USER_INPUT',
      'input.tags.1',
    ],
    ['empty tag', 'physics', { title: 't', content: 'c', tags: [''] }, 'BAD_USER_INPUT', 'input.tags.0'],
    ['NUL in content', 'physics', { title: 't', content: 'a\u0000b' }, 'BAD_USER_INPUT', 'input.content'],
    ['STX in title', 'physics', { title: 'a\u0002b', content: 'c' }, 'BAD_USER_INPUT', 'input.title'],
  ])('refuses %s', async (_name, unitId, input, code, field) => {
    const error = firstError(await harness.call(writer, STORE, { unitId, input }));
    expect(error.extensions).toMatchObject({ code, field });
  });

  it('accepts content of exactly 64 KiB and 20 tags of 64 characters', async () => {
    const record = await store('logic', {
      title: 't'.repeat(500),
      content: 'a'.repeat(64 * 1024),
      tags: Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(64, 'x')),
    });
    expect(record.content).toHaveLength(64 * 1024);
    expect(record.tags).toHaveLength(20);
  });
});

describe('maintenance and analytics', () => {
  it.each(['ANALYZE', 'VACUUM', 'REINDEX'])('runs %s for real', async (action) => {
    const response = await harness.call<{
      runUnitMaintenance: {
        unit: { id: string };
        action: string;
        durationMs: number;
        sizeBeforeBytes: number;
        sizeAfterBytes: number;
        startedAt: string;
      };
    }>(
      adminIdentity(),
      `mutation($action: MaintenanceAction!) { runUnitMaintenance(unitId: "physics", action: $action) { unit { id } action startedAt durationMs sizeBeforeBytes sizeAfterBytes } }`,
      { action },
    );
    expect(response.errors).toBeUndefined();
    const result = response.data!.runUnitMaintenance;
    expect(result).toMatchObject({ unit: { id: 'physics' }, action });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.sizeBeforeBytes).toBeGreaterThan(0);
    expect(result.sizeAfterBytes).toBeGreaterThan(0);
  });

  it('is for admins only', async () => {
    const mutation = `mutation { runUnitMaintenance(unitId: "physics", action: VACUUM) { durationMs } }`;
    expect(firstError(await harness.call(userIdentity(), mutation)).extensions?.['code']).toBe('FORBIDDEN');
    expect(firstError(await harness.call(anonymousIdentity(), mutation)).extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(
      firstError(await harness.call(userIdentity(), `{ unitAnalytics(unitId: "physics") { recordsPerTag { tag } } }`))
        .extensions?.['code'],
    ).toBe('FORBIDDEN');
    expect(
      firstError(
        await harness.call(
          adminIdentity(),
          `mutation { runUnitMaintenance(unitId: "nope", action: ANALYZE) { durationMs } }`,
        ),
      ).extensions?.['code'],
    ).toBe('NOT_FOUND');
  });

  it('reports records per tag, author and day', async () => {
    const author = userIdentity(randomUUID(), 'pro');
    await store(
      'reason',
      { title: 'Syllogism', content: 'All men are mortal.', tags: ['classic', 'deduction'] },
      author,
    );
    await store('reason', { title: 'Induction', content: 'The sun rose every day.', tags: ['classic'] }, author);
    const response = await harness.call<{
      unitAnalytics: {
        unit: { id: string };
        recordsPerTag: Array<{ tag: string; count: number }>;
        recordsPerAuthor: Array<{ author: { id: string } | null; count: number }>;
        recordsPerDay: Array<{ day: string; count: number }>;
      };
    }>(
      adminIdentity(),
      `{ unitAnalytics(unitId: "reason") { unit { id } recordsPerTag { tag count } recordsPerAuthor { author { id } count } recordsPerDay { day count } } }`,
    );
    expect(response.errors).toBeUndefined();
    const analytics = response.data!.unitAnalytics;
    expect(analytics.unit.id).toBe('reason');
    expect(analytics.recordsPerTag).toContainEqual({ tag: 'classic', count: 2 });
    expect(analytics.recordsPerTag).toContainEqual({ tag: 'deduction', count: 1 });
    expect(analytics.recordsPerAuthor).toContainEqual({ author: { id: author.userId }, count: 2 });
    expect(analytics.recordsPerAuthor).toContainEqual({ author: null, count: seeded('reason') });
    expect(analytics.recordsPerDay[0]).toEqual({
      day: new Date().toISOString().slice(0, 10),
      count: seeded('reason') + 2,
    });
  });
});

describe('federation', () => {
  it('resolves StorageUnit, UnitRecord and User references', async () => {
    const author = userIdentity();
    const first = await store('space', { title: 'Nebula', content: 'A cloud of gas.' }, author);
    const second = await store('physics', { title: 'Lever', content: 'A simple machine.' }, author);
    const other = userIdentity();
    const third = await store('logic', { title: 'Modus ponens', content: 'If p then q; p; so q.' }, other);
    const response = await harness.call<{ _entities: Array<Record<string, unknown> | null> }>(
      anonymousIdentity(),
      `query($representations: [_Any!]!) { _entities(representations: $representations) {
        ... on StorageUnit { id name }
        ... on UnitRecord { id title unit { id } author { id } }
        ... on User { id storedRecords(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }
      } }`,
      {
        representations: [
          { __typename: 'StorageUnit', id: 'quantum' },
          { __typename: 'StorageUnit', id: 'nope' },
          { __typename: 'UnitRecord', id: first.id },
          { __typename: 'UnitRecord', id: second.id },
          { __typename: 'UnitRecord', id: randomUUID() },
          { __typename: 'UnitRecord', id: 'garbage' },
          { __typename: 'User', id: author.userId },
          { __typename: 'User', id: other.userId },
          { __typename: 'User', id: randomUUID() },
        ],
      },
    );
    expect(response.errors).toBeUndefined();
    const [unit, missingUnit, record1, record2, missing, garbage, user, otherUser, nobody] = response.data!._entities;
    expect(otherUser).toMatchObject({
      id: other.userId,
      storedRecords: { totalCount: 1, edges: [{ node: { id: third.id } }] },
    });
    expect(nobody).toMatchObject({ storedRecords: { totalCount: 0, edges: [], pageInfo: { hasNextPage: false } } });
    expect(unit).toEqual({ id: 'quantum', name: 'Quantum Unit' });
    expect(missingUnit).toBeNull();
    expect(record1).toEqual({ id: first.id, title: 'Nebula', unit: { id: 'space' }, author: { id: author.userId } });
    expect(record2).toMatchObject({ id: second.id, unit: { id: 'physics' } });
    expect(missing).toBeNull();
    expect(garbage).toBeNull();
    const stored = user as {
      storedRecords: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string };
        edges: Array<{ node: { id: string } }>;
      };
    };
    expect(stored.storedRecords.totalCount).toBe(2);
    expect(stored.storedRecords.edges.map((edge) => edge.node.id)).toEqual([second.id]);
    expect(stored.storedRecords.pageInfo.hasNextPage).toBe(true);
    const next = await harness.call<{
      _entities: Array<{
        storedRecords: { pageInfo: { hasNextPage: boolean }; edges: Array<{ node: { id: string } }> };
      }>;
    }>(
      anonymousIdentity(),
      `query($r: [_Any!]!, $after: String) { _entities(representations: $r) { ... on User { storedRecords(first: 5, after: $after) { pageInfo { hasNextPage } edges { node { id } } } } } }`,
      { r: [{ __typename: 'User', id: author.userId }], after: stored.storedRecords.pageInfo.endCursor },
    );
    expect(next.data!._entities[0]!.storedRecords.edges.map((edge) => edge.node.id)).toEqual([first.id]);
    expect(next.data!._entities[0]!.storedRecords.pageInfo.hasNextPage).toBe(false);
  });

  it('serves its SDL to the gateway', async () => {
    const response = await harness.call<{ _service: { sdl: string } }>(anonymousIdentity(), `{ _service { sdl } }`);
    expect(response.data!._service.sdl).toMatch(/type StorageUnit\s+@key\(fields: "id"\)/);
  });
});

describe('transport', () => {
  it('answers 401 without an internal token or with another audience', async () => {
    const none = await harness.call(null, `{ storageUnits { id } }`);
    expect(none.status).toBe(401);
    const wrongAudience = await harness.call(anonymousIdentity(), `{ storageUnits { id } }`, {}, 'knowledge');
    expect(wrongAudience.status).toBe(401);
  });
});

describe('rate limits', () => {
  it('allows a free user 10 stores per hour, then RATE_LIMITED with a retry time', async () => {
    const user = userIdentity(randomUUID(), 'free');
    for (let i = 0; i < 10; i++) await store('physics', { title: `burst ${i}`, content: 'x' }, user);
    const refused = firstError(
      await harness.call(user, STORE, { unitId: 'physics', input: { title: 'one too many', content: 'x' } }),
    );
    expect(refused.extensions?.['code']).toBe('RATE_LIMITED');
    expect(refused.extensions?.['retryAfterSeconds']).toBeGreaterThan(0);
    // Refused input does not spend quota: another free user is unaffected.
    await store('physics', { title: 'other user', content: 'x' }, userIdentity(randomUUID(), 'free'));
  });

  it('allows 30 searches per hour per anonymous IP, scaled ×5 for pro', async () => {
    const anonymous = anonymousIdentity('203.0.113.7');
    const query = `{ searchAllUnits(query: "force", first: 1) { rank } }`;
    const results = await Promise.all(Array.from({ length: 31 }, () => harness.call(anonymous, query)));
    const refused = results.filter((result) => result.errors?.[0]?.extensions?.['code'] === 'RATE_LIMITED');
    expect(refused).toHaveLength(1);
    // ×5 pinned on a second instance whose limit is 2 (cheap to exhaust): free 2, pro exactly 10.
    const small = await harness.startServer({ overrides: { 'Query.searchAllUnits': { max: 2 } } });
    const outcomes = async (identity: ReturnType<typeof userIdentity>, attempts: number) => {
      const answers = await Promise.all(
        Array.from({ length: attempts }, () => harness.call(identity, query, {}, undefined, small.url)),
      );
      return answers.map((answer) => String(answer.errors?.[0]?.extensions?.['code'] ?? 'OK'));
    };
    const count = (codes: string[], code: string) => codes.filter((candidate) => candidate === code).length;
    const free = await outcomes(anonymousIdentity('203.0.113.8'), 5);
    expect([count(free, 'OK'), count(free, 'RATE_LIMITED')]).toEqual([2, 3]);
    const pro = await outcomes(userIdentity(randomUUID(), 'pro'), 15);
    expect([count(pro, 'OK'), count(pro, 'RATE_LIMITED')]).toEqual([10, 5]);
  });
});
