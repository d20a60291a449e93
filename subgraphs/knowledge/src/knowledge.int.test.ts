import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  generateInternalKeyPair,
  importInternalSigningKey,
  INTERNAL_TOKEN_HEADER,
  signInternalToken,
} from '@supergraph/platform';
import { anonymousIdentity, startHarness, userIdentity, type KnowledgeHarness } from './testing/harness.ts';

const ENTRY_FIELDS = 'id title body topic tags source language externalId createdAt updatedAt author { id }';

const INGEST = `mutation ($input: KnowledgeInput!) { ingestKnowledge(input: $input) { ${ENTRY_FIELDS} } }`;
const BATCH = `mutation ($inputs: [KnowledgeInput!]!) { ingestKnowledgeBatch(inputs: $inputs) { id title } }`;
const SEARCH = `query ($query: String!, $topic: String, $first: Int, $after: String) {
  searchKnowledge(query: $query, topic: $topic, first: $first, after: $after) {
    edges { cursor rank snippet match node { id title topic } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

let harness: KnowledgeHarness;
// Rate limits are exercised in rate-limit.int.test.ts; here everyone is enterprise with a roomy budget.
const author = userIdentity({ tier: 'enterprise' });
const other = userIdentity({ tier: 'enterprise' });
const admin = userIdentity({ tier: 'enterprise', admin: true });

interface Entry {
  id: string;
  title: string;
  body: string;
  topic: string | null;
  tags: string[];
  author: { id: string } | null;
}

async function ingest(input: Record<string, unknown>, identity = author): Promise<Entry> {
  const result = await harness.call<{ ingestKnowledge: Entry }>(INGEST, { input }, identity);
  expect(result.errors).toBeUndefined();
  return result.data!.ingestKnowledge;
}

const CORPUS = [
  {
    title: 'Photon',
    body: 'A photon is the quantum of electromagnetic radiation; light is made of photons.',
    topic: 'physics',
    tags: ['light'],
  },
  {
    title: 'Photosynthesis',
    body: 'Plants turn light, water and carbon dioxide into sugar and oxygen.',
    topic: 'biology',
  },
  {
    title: 'Galaxy',
    body: 'A galaxy is a system of stars, gas and dust held together by gravity.',
    topic: 'astronomy',
  },
  {
    title: 'Speed of light',
    body: 'Light travels through a vacuum at about 299,792 kilometres per second.',
    topic: 'physics',
  },
  { title: 'Chlorophyll', body: 'The green pigment plants use to absorb light for photosynthesis.', topic: 'biology' },
  {
    title: 'Black hole',
    body: 'A region of spacetime where gravity is so strong nothing, not even light, escapes.',
    topic: 'astronomy',
  },
];

beforeAll(async () => {
  harness = await startHarness({
    rateLimits: {
      overrides: {
        'Query.searchKnowledge': { max: 10_000 },
        'Query.askKnowledge': { max: 10_000 },
        'Mutation.ingestKnowledge': { max: 10_000 },
      },
    },
  });
  const result = await harness.call(BATCH, { inputs: CORPUS }, admin);
  expect(result.errors).toBeUndefined();
});

afterAll(async () => {
  await harness?.close();
});

describe('internal token', () => {
  it('refuses requests without a token (401)', async () => {
    const response = await fetch(harness.running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ knowledgeStats { entries } }' }),
    });
    expect(response.status).toBe(401);
  });

  it('refuses a token for another audience (401)', async () => {
    const token = await signInternalToken(author, 'auth', harness.privateKey);
    const response = await fetch(harness.running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token },
      body: JSON.stringify({ query: '{ knowledgeStats { entries } }' }),
    });
    expect(response.status).toBe(401);
  });

  it('refuses a token signed by another key (401)', async () => {
    const key = await importInternalSigningKey(generateInternalKeyPair().privateKeyPem);
    const token = await signInternalToken(author, 'knowledge', key);
    const response = await fetch(harness.running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token },
      body: JSON.stringify({ query: '{ knowledgeStats { entries } }' }),
    });
    expect(response.status).toBe(401);
  });
});

describe('ingest and read', () => {
  it('stores an entry with its author and reads it back', async () => {
    const entry = await ingest({
      title: '  Neutrino ',
      body: 'A very light, neutral particle.',
      topic: 'physics',
      tags: ['particle', 'particle'],
    });
    expect(entry).toMatchObject({
      title: 'Neutrino',
      topic: 'physics',
      tags: ['particle'],
      author: { id: author.userId },
    });
    const read = await harness.call<{ knowledgeEntry: Entry }>(
      `query ($id: ID!) { knowledgeEntry(id: $id) { ${ENTRY_FIELDS} } }`,
      { id: entry.id },
      anonymousIdentity(),
    );
    expect(read.data?.knowledgeEntry).toMatchObject({
      id: entry.id,
      title: 'Neutrino',
      body: 'A very light, neutral particle.',
    });
  });

  it('answers null for an unknown id and BAD_USER_INPUT for a malformed one', async () => {
    const unknown = await harness.call<{ knowledgeEntry: Entry | null }>(
      `query ($id: ID!) { knowledgeEntry(id: $id) { id } }`,
      { id: randomUUID() },
    );
    expect(unknown.data?.knowledgeEntry).toBeNull();
    const malformed = await harness.call(`query ($id: ID!) { knowledgeEntry(id: $id) { id } }`, { id: "1' or '1'='1" });
    expect(malformed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });

  it('requires authentication and the knowledge:write scope to ingest', async () => {
    const anonymous = await harness.call(INGEST, { input: { title: 'x' } }, anonymousIdentity());
    expect(anonymous.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const readOnly = await harness.call(INGEST, { input: { title: 'x' } }, { ...author, scopes: ['knowledge:read'] });
    expect(readOnly.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('rejects bad input with the offending field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ title: '   ' }, 'input.title'],
      [{ title: 'x'.repeat(501) }, 'input.title'],
      [{ title: 'ok', body: 'é'.repeat(60 * 1024) }, 'input.body'],
      [{ title: 'ok', topic: 't'.repeat(65) }, 'input.topic'],
      [{ title: 'ok', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'input.tags'],
      [{ title: 'ok', tags: ['fine', 'x'.repeat(65)] }, 'input.tags.1'],
      [{ title: 'nul\u0000byte' }, 'input.title'],
      [{ title: 'ok', language: 'english!' }, 'input.language'],
    ];
    for (const [input, field] of cases) {
      const result = await harness.call(INGEST, { input });
      expect(result.errors?.[0]?.extensions, field).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('refuses a duplicate externalId with CONFLICT', async () => {
    await ingest({ title: 'Unique', externalId: 'test:unique-1' });
    const again = await harness.call(INGEST, { input: { title: 'Unique again', externalId: 'test:unique-1' } });
    expect(again.errors?.[0]?.extensions?.['code']).toBe('CONFLICT');
  });
});

describe('batch ingest', () => {
  it('is for admins only', async () => {
    const result = await harness.call(BATCH, { inputs: [{ title: 'x' }] }, author);
    expect(result.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('is all or nothing: one bad row (conflict) rolls back the others', async () => {
    await harness.call(BATCH, { inputs: [{ title: 'Batch seed', externalId: 'test:batch-dup' }] }, admin);
    const before = await harness.call<{ knowledgeStats: { entries: number } }>('{ knowledgeStats { entries } }');
    const inputs = [
      { title: 'Batch A', externalId: 'test:batch-a' },
      { title: 'Batch B', externalId: 'test:batch-dup' },
    ];
    const result = await harness.call(BATCH, { inputs }, admin);
    expect(result.errors?.[0]?.extensions?.['code']).toBe('CONFLICT');
    const after = await harness.call<{ knowledgeStats: { entries: number } }>('{ knowledgeStats { entries } }');
    expect(after.data?.knowledgeStats.entries).toBe(before.data?.knowledgeStats.entries);
  });

  it('validates every row and caps the batch at 1,000', async () => {
    const bad = await harness.call(BATCH, { inputs: [{ title: 'fine' }, { title: '' }] }, admin);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputs.1.title' });
    const tooMany = await harness.call(
      BATCH,
      { inputs: Array.from({ length: 1001 }, (_, i) => ({ title: `t${i}` })) },
      admin,
    );
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputs' });
  });

  it('inserts 1,000 entries in one call', async () => {
    const inputs = Array.from({ length: 1000 }, (_, i) => ({
      title: `Bulk entry ${i}`,
      body: `zebrafish number ${i}`,
      topic: 'bulk',
    }));
    harness.queries.count = 0;
    const result = await harness.call<{ ingestKnowledgeBatch: Array<{ id: string }> }>(BATCH, { inputs }, admin);
    expect(result.errors).toBeUndefined();
    expect(result.data?.ingestKnowledgeBatch).toHaveLength(1000);
    expect(harness.queries.count).toBe(3); // the INSERT, the ingest-run record, the new frequent lexemes' lists
  });
});

describe('update and delete', () => {
  it('lets the author and admins change an entry, forbids others, NOT_FOUND for unknown ids', async () => {
    const entry = await ingest({ title: 'Draft', body: 'first' });
    const UPDATE = `mutation ($id: ID!, $input: KnowledgeUpdateInput!) { updateKnowledgeEntry(id: $id, input: $input) { id title body } }`;
    const byOther = await harness.call(UPDATE, { id: entry.id, input: { title: 'Hijack' } }, other);
    expect(byOther.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const byAuthor = await harness.call<{ updateKnowledgeEntry: Entry }>(
      UPDATE,
      { id: entry.id, input: { title: 'Final' } },
      author,
    );
    expect(byAuthor.data?.updateKnowledgeEntry).toMatchObject({ title: 'Final', body: 'first' });
    const byAdmin = await harness.call<{ updateKnowledgeEntry: Entry }>(
      UPDATE,
      { id: entry.id, input: { body: 'edited' } },
      admin,
    );
    expect(byAdmin.data?.updateKnowledgeEntry).toMatchObject({ title: 'Final', body: 'edited' });
    const unknown = await harness.call(UPDATE, { id: randomUUID(), input: { title: 'x' } }, admin);
    expect(unknown.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const empty = await harness.call(UPDATE, { id: entry.id, input: {} }, author);
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
  });

  it('deletes for the author, not for others', async () => {
    const entry = await ingest({ title: 'Ephemeral' });
    const DELETE = `mutation ($id: ID!) { deleteKnowledgeEntry(id: $id) }`;
    expect((await harness.call(DELETE, { id: entry.id }, other)).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect((await harness.call(DELETE, { id: entry.id }, author)).data).toEqual({ deleteKnowledgeEntry: entry.id });
    expect((await harness.call(DELETE, { id: entry.id }, author)).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });
});

describe('searchKnowledge', () => {
  interface SearchData {
    searchKnowledge: {
      edges: Array<{
        cursor: string;
        rank: number;
        snippet: string;
        match: string;
        node: { id: string; title: string; topic: string };
      }>;
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
    };
  }
  const search = (variables: Record<string, unknown>) =>
    harness.call<SearchData>(SEARCH, variables, anonymousIdentity());

  it('ranks title matches above body matches and highlights the snippet', async () => {
    const result = await search({ query: 'photon' });
    const edges = result.data!.searchKnowledge.edges;
    expect(edges[0]?.node.title).toBe('Photon');
    expect(edges[0]?.match).toBe('FULL_TEXT');
    expect(edges[0]?.snippet).toContain('<b>photon</b>');
    const fullText = edges.filter((edge) => edge.match === 'FULL_TEXT');
    for (let i = 1; i < fullText.length; i++) expect(fullText[i - 1]!.rank).toBeGreaterThanOrEqual(fullText[i]!.rank);
    // Fewer than three full-text hits: similar titles follow as FUZZY, after every full-text hit.
    expect(edges.slice(fullText.length).every((edge) => edge.match === 'FUZZY')).toBe(true);
  });

  it('ranks a title hit above an entry that only mentions the word', async () => {
    const edges = (await search({ query: 'light' })).data!.searchKnowledge.edges;
    expect(edges[0]?.node.title).toBe('Speed of light');
    expect(edges.map((edge) => edge.node.title)).toEqual(
      expect.arrayContaining(['Photon', 'Black hole', 'Chlorophyll']),
    );
  });

  it('understands web-search syntax: phrases, exclusion, or', async () => {
    const titles = async (query: string) =>
      (await search({ query })).data!.searchKnowledge.edges.map((edge) => edge.node.title).sort();
    expect(await titles('light -plants')).not.toContain('Chlorophyll');
    expect(await titles('light -plants')).toContain('Photon');
    expect(await titles('"speed of light"')).toEqual(['Speed of light']);
    expect(await titles('galaxy or chlorophyll')).toEqual(['Chlorophyll', 'Galaxy']);
  });

  it('filters by topic', async () => {
    const result = await search({ query: 'light', topic: 'biology' });
    const topics = result.data!.searchKnowledge.edges.map((edge) => edge.node.topic);
    expect(topics.length).toBeGreaterThan(0);
    expect(new Set(topics)).toEqual(new Set(['biology']));
  });

  it('pages with cursors', async () => {
    const first = await search({ query: 'light', first: 2 });
    const page1 = first.data!.searchKnowledge;
    expect(page1.edges).toHaveLength(2);
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await search({ query: 'light', first: 2, after: page1.pageInfo.endCursor });
    const page2 = second.data!.searchKnowledge;
    expect(page2.pageInfo.hasPreviousPage).toBe(true);
    const ids1 = page1.edges.map((edge) => edge.node.id);
    for (const edge of page2.edges) expect(ids1).not.toContain(edge.node.id);
    expect(page2.edges[0]!.rank).toBeLessThanOrEqual(page1.edges[1]!.rank);
  });

  it('fills a small page from title hits without mistaking it for "few matches"', async () => {
    const inputs = [
      { title: 'Quasar alpha', body: 'a bright object' },
      { title: 'Quasar beta', body: 'another bright object' },
      ...Array.from({ length: 5 }, (_, i) => ({ title: `Radio source ${i}`, body: `possibly a quasar, number ${i}` })),
    ];
    expect((await harness.call(BATCH, { inputs }, admin)).errors).toBeUndefined();
    const page = (await search({ query: 'quasar', first: 1 })).data!.searchKnowledge;
    expect(page.edges.map((edge) => [edge.node.title.slice(0, 6), edge.match])).toEqual([['Quasar', 'FULL_TEXT']]);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const all = (await search({ query: 'quasar', first: 20 })).data!.searchKnowledge.edges;
    expect(all).toHaveLength(7);
    expect(all.slice(0, 2).every((edge) => edge.node.title.startsWith('Quasar'))).toBe(true);
    expect(all.every((edge) => edge.match === 'FULL_TEXT')).toBe(true);
  });

  it('finds a misspelt title through the trigram fallback', async () => {
    const result = await search({ query: 'fotosynthesis' });
    const edge = result.data!.searchKnowledge.edges[0];
    expect(edge?.node.title).toBe('Photosynthesis');
    expect(edge?.match).toBe('FUZZY');
  });

  it('falls back to whole-title similarity when no title is word-similar', async () => {
    const result = await search({ query: 'blak hol' });
    const edge = result.data!.searchKnowledge.edges[0];
    expect(edge).toMatchObject({ match: 'FUZZY', node: { title: 'Black hole' } });
  });

  it('counts matches only when asked', async () => {
    const result = await harness.call<{ searchKnowledge: { totalCount: number; totalCountIsExact: boolean } }>(
      `{ searchKnowledge(query: "zebrafish", first: 1) { totalCount totalCountIsExact } }`,
    );
    expect(result.data?.searchKnowledge).toEqual({ totalCount: 1000, totalCountIsExact: true });
  });

  it('treats hostile strings as text', async () => {
    const hostile = [
      "'; drop table knowledge.entries; --",
      '\\',
      '\\\\',
      '%',
      '%_%',
      '&|!:*()<>',
      '!',
      ':*',
      '<->',
      '"unterminated',
      '-',
      '-photon',
      'or',
      'ünïcödé 光子 🚀',
      '$$ \' " `',
      '\u202Eevil',
    ];
    for (const query of hostile) {
      const result = await search({ query });
      expect(result.errors, query).toBeUndefined();
      expect(Array.isArray(result.data?.searchKnowledge.edges), query).toBe(true);
    }
    const stats = await harness.call<{ knowledgeStats: { entries: number } }>('{ knowledgeStats { entries } }');
    expect(stats.data?.knowledgeStats.entries).toBeGreaterThan(1000);
  });

  it('escapes HTML in snippets', async () => {
    await ingest({
      title: 'Markup sample',
      body: 'Beware <img src=x onerror=alert(1)> & "quotes" in quasarmarkup text',
    });
    const result = await search({ query: 'quasarmarkup' });
    const snippet = result.data!.searchKnowledge.edges[0]!.snippet;
    expect(snippet).toContain('<b>quasarmarkup</b>');
    expect(snippet).not.toMatch(/<img/);
    expect(snippet).toContain('&amp;');
  });

  it('validates query, first, topic and cursor', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ query: '   ' }, 'query'],
      [{ query: 'x'.repeat(501) }, 'query'],
      [{ query: 'light', first: 0 }, 'first'],
      [{ query: 'light', first: 101 }, 'first'],
      [{ query: 'light', topic: 'x'.repeat(65) }, 'topic'],
      [{ query: 'light', after: 'not-a-cursor' }, 'after'],
      [{ query: 'light', after: Buffer.from(JSON.stringify({ o: 1e300 })).toString('base64url') }, 'after'],
    ];
    for (const [variables, field] of cases) {
      const result = await search(variables);
      expect(result.errors?.[0]?.extensions, JSON.stringify(variables).slice(0, 60)).toMatchObject({
        code: 'BAD_USER_INPUT',
        field,
      });
    }
  });
});

describe('askKnowledge', () => {
  it('answers a natural-language question with ranked entries', async () => {
    const result = await harness.call<{
      askKnowledge: Array<{ rank: number; snippet: string; entry: { title: string } }>;
    }>(`query ($q: String!) { askKnowledge(question: $q, first: 3) { rank snippet entry { title } } }`, {
      q: 'What is the speed of light?',
    });
    expect(result.errors).toBeUndefined();
    const answers = result.data!.askKnowledge;
    expect(answers[0]?.entry.title).toBe('Speed of light');
    expect(answers.length).toBeLessThanOrEqual(3);
    expect(answers.length).toBeGreaterThan(1); // "light" alone brings more entries (OR stage)
  });

  it('answers nothing for a question of stop words only', async () => {
    const result = await harness.call<{ askKnowledge: unknown[] }>(
      `{ askKnowledge(question: "What is it?") { rank } }`,
    );
    expect(result.data?.askKnowledge).toEqual([]);
  });
});

describe('topics and stats', () => {
  it('counts entries per topic', async () => {
    const result = await harness.call<{ knowledgeTopics: Array<{ topic: string; count: number }> }>(
      '{ knowledgeTopics { topic count } }',
    );
    const topics = result.data!.knowledgeTopics;
    expect(topics[0]).toEqual({ topic: 'bulk', count: 1000 });
    expect(topics).toContainEqual({ topic: 'biology', count: 2 });
  });

  it('reports entries, size on disk and the last ingest time', async () => {
    const result = await harness.call<{ knowledgeStats: { entries: number; sizeBytes: number; lastIngestAt: string } }>(
      '{ knowledgeStats { entries sizeBytes lastIngestAt } }',
    );
    const stats = result.data!.knowledgeStats;
    expect(stats.entries).toBeGreaterThan(1000);
    expect(stats.sizeBytes).toBeGreaterThan(100_000);
    expect(Date.now() - Date.parse(stats.lastIngestAt)).toBeLessThan(120_000);
  });
});

describe('federation', () => {
  it('resolves 100 KnowledgeEntry representations with one query', async () => {
    const inputs = Array.from({ length: 100 }, (_, i) => ({ title: `Federated ${i}` }));
    const created = await harness.call<{ ingestKnowledgeBatch: Array<{ id: string }> }>(BATCH, { inputs }, admin);
    const representations = created.data!.ingestKnowledgeBatch.map(({ id }) => ({ __typename: 'KnowledgeEntry', id }));
    harness.queries.count = 0;
    const result = await harness.call<{
      _entities: Array<{ id: string; title: string; author: { id: string } | null }>;
    }>(
      `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on KnowledgeEntry { id title author { id } } } }`,
      { representations: [...representations, { __typename: 'KnowledgeEntry', id: 'not-a-uuid' }] },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toHaveLength(101);
    expect(result.data?._entities[0]).toMatchObject({ title: 'Federated 0', author: { id: admin.userId } });
    expect(result.data?._entities[100]).toBeNull();
    expect(harness.queries.count).toBe(1);
  });

  it('lists the entries of 100 users with one query, paging by cursor', async () => {
    const users = Array.from({ length: 100 }, () => userIdentity({ tier: 'enterprise' }));
    const writer = users[0]!;
    for (const title of ['Oldest', 'Middle', 'Newest']) await ingest({ title }, writer);
    harness.queries.count = 0;
    const QUERY = `query ($representations: [_Any!]!, $after: String) { _entities(representations: $representations) {
      ... on User { id knowledgeEntries(first: 2, after: $after) { edges { node { title author { id } } } pageInfo { hasNextPage endCursor } } } } }`;
    const result = await harness.call<{
      _entities: Array<{
        id: string;
        knowledgeEntries: {
          edges: Array<{ node: { title: string } }>;
          pageInfo: { hasNextPage: boolean; endCursor: string };
        };
      }>;
    }>(QUERY, { representations: users.map((user) => ({ __typename: 'User', id: user.userId })) });
    expect(result.errors).toBeUndefined();
    expect(harness.queries.count).toBe(1);
    const first = result.data!._entities[0]!.knowledgeEntries;
    expect(first.edges.map((edge) => edge.node.title)).toEqual(['Newest', 'Middle']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(result.data!._entities[1]!.knowledgeEntries.edges).toEqual([]);
    const next = await harness.call<{
      _entities: Array<{
        knowledgeEntries: { edges: Array<{ node: { title: string } }>; pageInfo: { hasNextPage: boolean } };
      }>;
    }>(QUERY, { representations: [{ __typename: 'User', id: writer.userId }], after: first.pageInfo.endCursor });
    expect(next.data!._entities[0]!.knowledgeEntries.edges.map((edge) => edge.node.title)).toEqual(['Oldest']);
    expect(next.data!._entities[0]!.knowledgeEntries.pageInfo.hasNextPage).toBe(false);
  });

  it('answers a page of 100 search results with authors in one query', async () => {
    harness.queries.count = 0;
    const result = await harness.call<{
      searchKnowledge: { edges: Array<{ node: { author: { id: string } | null } }> };
    }>(`{ searchKnowledge(query: "zebrafish", first: 100) { edges { node { id title author { id } } } } }`);
    expect(result.data?.searchKnowledge.edges).toHaveLength(100);
    expect(result.data?.searchKnowledge.edges[0]?.node.author).toEqual({ id: admin.userId });
    expect(harness.queries.count).toBe(1);
  });
});

beforeEach(() => {
  harness.queries.count = 0;
});
