import { offsetCursor } from '@supergraph/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshFrequentLexemes } from './frequent-lexemes.repository.ts';
import { BATCH, startRankingFixture, type RankingFixture } from './testing/ranking.ts';

/**
 * Per-lexeme top lists (README, "Search at scale") on a small crafted corpus,
 * with a candidate cap of 4 so that "comet" (30 matches) is very common: the
 * capped ranking would only rank the first 4 title hits, the list answers the
 * exact order of the naive `order by ts_rank(...) desc, id`.
 */
const CAP = 4;
const LIST_SIZE = 12;
const INGEST = `mutation ($input: KnowledgeInput!) { ingestKnowledge(input: $input) { id } }`;
const UPDATE = `mutation ($id: ID!, $input: KnowledgeUpdateInput!) { updateKnowledgeEntry(id: $id, input: $input) { id } }`;
const DELETE = `mutation ($id: ID!) { deleteKnowledgeEntry(id: $id) }`;
let fixture: RankingFixture;

/**
 * The first entries mention "comet" once in the title (rank ~0.61), later ones
 * in the title and the body several times (higher ranks), a few only in the
 * body; some share a rank (ties are ordered by id).
 */
function cometCorpus() {
  const entries: Array<{ title: string; body: string; topic: string }> = [];
  for (let i = 0; i < 10; i++) entries.push({ title: `Comet ${i}`, body: `An icy body number ${i}.`, topic: 'plain' });
  for (let i = 0; i < 12; i++)
    entries.push({
      title: `Bright comet ${i}`,
      body: `${'comet tail '.repeat(1 + (i % 4))}seen in year ${i}.`,
      topic: 'bright',
    });
  for (let i = 0; i < 8; i++)
    entries.push({ title: `Sky note ${i}`, body: `A comet was seen; ${'comet '.repeat(i % 3)}`, topic: 'plain' });
  for (let i = 0; i < 3; i++) entries.push({ title: `Asteroid ${i}`, body: 'A rocky body.', topic: 'plain' });
  return entries;
}

const search = (variables: Record<string, unknown>) => fixture.search(variables);
const naive = (query: string, limit: number, offset = 0) => fixture.naive(query, limit, offset);

async function listedLexemes(): Promise<string[]> {
  const rows = await fixture.db.selectFrom('frequent_lexeme_terms').select('lexeme').orderBy('lexeme').execute();
  return rows.map((row) => row.lexeme);
}

beforeAll(async () => {
  fixture = await startRankingFixture(cometCorpus(), { candidateCap: CAP, listSize: LIST_SIZE });
});

afterAll(async () => {
  await fixture?.close();
});

describe('frequent lexeme top lists', () => {
  it('lists the lexemes matching more than the cap, with their exact best entries', async () => {
    expect(await listedLexemes()).toEqual(expect.arrayContaining(['bodi', 'comet', 'seen']));
    expect(await listedLexemes()).not.toContain('asteroid'); // 3 matches: listed only above the cap
    const list = await fixture.db
      .selectFrom('frequent_lexemes')
      .select('entry_id')
      .where('lexeme', '=', 'comet')
      .orderBy('rank', 'desc')
      .orderBy('entry_id')
      .execute();
    expect(list.map((row) => row.entry_id)).toEqual(await naive('comet', LIST_SIZE));
  });

  it('answers a single very common term in the exact order, page after page, within the list', async () => {
    const first = await search({ query: 'comet', first: 5 });
    expect(first.edges.map((edge) => edge.node.id)).toEqual(await naive('comet', 5));
    expect(first.edges.every((edge) => edge.match === 'FULL_TEXT')).toBe(true);
    expect(first.pageInfo.hasNextPage).toBe(true);
    // The capped ranking alone would rank the first 4 title hits ("Comet 0…3") and miss the bright ones.
    expect(first.edges[0]?.node.title).toMatch(/^Bright comet/);
    const second = await search({ query: 'Comets', first: 5, after: first.pageInfo.endCursor });
    expect(second.edges.map((edge) => edge.node.id)).toEqual(await naive('comet', 5, 5));
    const ranks = [...first.edges, ...second.edges].map((edge) => edge.rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
  });

  it('falls back to the capped ranking past the list, for several terms and with a topic', async () => {
    // Offset 2 + 10 + 1 > 12 listed: the capped candidates (the first 4 title hits) answer what they can.
    const deep = await search({ query: 'comet', first: 10, after: offsetCursor(1) });
    expect(deep.edges.map((edge) => edge.node.title)).toEqual([
      expect.stringMatching(/^Comet/),
      expect.stringMatching(/^Comet/),
    ]);
    const twoTerms = await search({ query: 'comet tail', first: 20 });
    expect(twoTerms.edges.length).toBeGreaterThan(0);
    for (const edge of twoTerms.edges) expect(edge.node.title).toMatch(/^Bright comet/);
    const topical = await search({ query: 'comet', topic: 'plain', first: 20 });
    expect(topical.edges.length).toBeGreaterThan(0);
    for (const edge of topical.edges) expect(edge.node.topic).toBe('plain');
  });

  it('keeps the lists exact through single ingests, updates and deletes', async () => {
    const ingested = await fixture.harness.call<{ ingestKnowledge: { id: string } }>(
      INGEST,
      { input: { title: 'Comet comet comet', body: 'comet '.repeat(10) } },
      fixture.admin,
    );
    expect(ingested.errors).toBeUndefined();
    const top = ingested.data!.ingestKnowledge.id;
    let page = await search({ query: 'comet', first: 5 });
    expect(page.edges[0]?.node.id).toBe(top);
    expect(page.edges.map((edge) => edge.node.id)).toEqual(await naive('comet', 5));

    const second = page.edges[1]!.node.id;
    const updated = await fixture.harness.call(
      UPDATE,
      { id: second, input: { title: 'Renamed', body: 'nothing here' } },
      fixture.admin,
    );
    expect(updated.errors).toBeUndefined();
    page = await search({ query: 'comet', first: 5 });
    expect(page.edges.map((edge) => edge.node.id)).not.toContain(second);
    expect(page.edges.map((edge) => edge.node.id)).toEqual(await naive('comet', 5));

    const deleted = await fixture.harness.call(DELETE, { id: top }, fixture.admin);
    expect(deleted.errors).toBeUndefined();
    page = await search({ query: 'comet', first: 5 });
    expect(page.edges.map((edge) => edge.node.id)).toEqual(await naive('comet', 5));
  });

  it('gives a lexeme its list when a batch ingest makes it very common', async () => {
    expect(await listedLexemes()).not.toContain('quasar');
    const inputs = Array.from({ length: CAP + 2 }, (_, i) => ({
      title: i % 2 === 0 ? `Quasar ${i}` : `Note ${i}`,
      body: `${'quasar '.repeat(i)}far away`,
    }));
    const result = await fixture.harness.call(BATCH, { inputs }, fixture.admin);
    expect(result.errors).toBeUndefined();
    expect(await listedLexemes()).toContain('quasar');
    const page = await search({ query: 'quasar', first: 5 });
    expect(page.edges.map((edge) => edge.node.id)).toEqual(await naive('quasar', 5));
  });

  it('rebuilds the lists from scratch', async () => {
    const report = await refreshFrequentLexemes(fixture.db, { minMatches: CAP, listSize: LIST_SIZE });
    expect(report.lexemes).toBeGreaterThanOrEqual(3);
    expect(report.rows).toBeGreaterThan(0);
    const page = await search({ query: 'comet', first: 8 });
    expect(page.edges.map((edge) => edge.node.id)).toEqual(await naive('comet', 8));
  });
});
