import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRankingFixture, type RankingFixture, type SearchPage } from './testing/ranking.ts';

/**
 * Exact-title boost (README, "Search at scale"): an entry one of whose
 * comma-separated title lemmas equals the query comes first, even when
 * `ts_rank` puts entries with more body hits above it. Candidate cap 4, so
 * "nebula" (20+ matches) is served from its top list and "quokka" (rare) by the
 * capped ranking.
 */
const CAP = 4;
const LIST_SIZE = 12;
let fixture: RankingFixture;

function corpus() {
  const entries: Array<{ title: string; body: string; topic: string }> = [];
  for (let i = 0; i < 14; i++)
    entries.push({
      title: `Bright nebula ${i}`,
      body: `${'nebula glow '.repeat(1 + (i % 4))}in field ${i}.`,
      topic: 'sky',
    });
  for (let i = 0; i < 6; i++)
    entries.push({ title: `Star note ${i}`, body: `A nebula nearby; ${'nebula '.repeat(i % 3)}`, topic: 'sky' });
  entries.push({ title: 'Nebula', body: 'An interstellar cloud of dust and gas.', topic: 'sky' });
  entries.push({ title: 'cloud of gas, NEBULA', body: 'Any diffuse cloud in space.', topic: 'space' });
  entries.push({ title: 'Nebulas and clusters', body: 'Nebula nebula nebula catalogue.', topic: 'sky' });
  entries.push({ title: 'Quokka', body: 'A small marsupial.', topic: 'animal' });
  entries.push({ title: 'Quokka island', body: 'Quokka quokka quokka everywhere on Rottnest.', topic: 'animal' });
  entries.push({ title: 'Animal note', body: 'The quokka smiles; quokka selfies.', topic: 'animal' });
  entries.push({ title: 'speed of light, light speed, c', body: 'The constant c of physics.', topic: 'physics' });
  entries.push({
    title: 'Light speed light speed records',
    body: 'light speed light speed light speed measured again and again',
    topic: 'physics',
  });
  entries.push({ title: 'Speed of sound', body: 'Slower than light speed.', topic: 'physics' });
  return entries;
}

const search = (variables: Record<string, unknown>) => fixture.search(variables);
const naive = (query: string) => fixture.naive(query);

/** The boosted order: exact lemma hits by `ts_rank`, then every other match by `ts_rank`. */
async function expected(query: string, lemma: string): Promise<{ exact: string[]; all: string[] }> {
  const { rows } = await sql<{ id: string }>`
    select id from knowledge.entries
     where search @@ websearch_to_tsquery('english', ${query})
       and ${lemma} = any(string_to_array(lower(title), ', '))
     order by ts_rank(search, websearch_to_tsquery('english', ${query})) desc, id`.execute(fixture.db);
  const exact = rows.map((row) => row.id);
  return { exact, all: [...exact, ...(await naive(query)).filter((id) => !exact.includes(id))] };
}

function expectHonestRanks(page: SearchPage, exactCount: number) {
  const ranks = page.edges.map((edge) => edge.rank);
  expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
  page.edges.forEach((edge, i) => {
    if (i < exactCount) expect(edge.rank).toBeGreaterThan(1);
    else expect(edge.rank).toBeLessThanOrEqual(1);
  });
}

beforeAll(async () => {
  fixture = await startRankingFixture(corpus(), { candidateCap: CAP, listSize: LIST_SIZE });
});

afterAll(async () => {
  await fixture?.close();
});

describe('exact title lemma first', () => {
  it('puts the exact lemma first for a rare term (capped ranking)', async () => {
    const { exact, all } = await expected('quokka', 'quokka');
    expect(exact).toHaveLength(1);
    // Without the boost, body hits outrank the entry titled exactly "Quokka".
    expect((await naive('quokka'))[0]).not.toBe(exact[0]);
    const page = await search({ query: 'quokka', first: 10 });
    expect(page.edges.map((edge) => edge.node.id)).toEqual(all);
    expect(page.edges[0]?.node.title).toBe('Quokka');
    expectHonestRanks(page, 1);
  });

  it('puts exact lemmas first for a very common term (top list), case-insensitively', async () => {
    const lexemes = await fixture.db.selectFrom('frequent_lexeme_terms').select('lexeme').execute();
    expect(lexemes.map((row) => row.lexeme)).toContain('nebula');
    const { exact, all } = await expected('nebula', 'nebula');
    expect(exact).toHaveLength(2); // "Nebula" and "cloud of gas, NEBULA"; not "Nebulas and clusters"
    expect((await naive('nebula')).slice(0, 2)).not.toEqual(exact);
    for (const query of ['nebula', 'NEBULA', '  Nebula ']) {
      const page = await search({ query, first: 6 });
      expect(page.edges.map((edge) => edge.node.id)).toEqual(all.slice(0, 6));
      expect(
        page.edges
          .slice(0, 2)
          .map((edge) => edge.node.title)
          .sort(),
      ).toEqual(['Nebula', 'cloud of gas, NEBULA']);
      expect(page.pageInfo.hasNextPage).toBe(true);
      expectHonestRanks(page, 2);
    }
  });

  it('keeps the boost with a topic filter (capped ranking of a common term)', async () => {
    const page = await search({ query: 'nebula', topic: 'sky', first: 3 });
    expect(page.edges[0]?.node.title).toBe('Nebula');
    expect(page.edges.every((edge) => edge.node.topic === 'sky')).toBe(true);
    expectHonestRanks(page, 1);
  });

  it('matches a multi-word lemma among several', async () => {
    const { exact, all } = await expected('light speed', 'light speed');
    expect(exact).toHaveLength(1);
    expect((await naive('light speed'))[0]).not.toBe(exact[0]);
    for (const query of ['light speed', 'Light   SPEED']) {
      const page = await search({ query, first: 10 });
      expect(page.edges.map((edge) => edge.node.id)).toEqual(all);
      expect(page.edges[0]?.node.title).toBe('speed of light, light speed, c');
      expectHonestRanks(page, 1);
    }
  });

  it('pages across the exact hits without duplicates or gaps (list and capped paths)', async () => {
    for (const topic of [null, 'sky']) {
      // The capped path (topic) pages within its candidates: the exact hit and the first CAP title hits.
      const whole = await search({ query: 'nebula', topic, first: 9 });
      const depth = whole.edges.length;
      expect(depth).toBeGreaterThanOrEqual(topic === null ? 9 : 4);
      const ids: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < depth; i++) {
        const page: SearchPage = await search({ query: 'nebula', topic, first: 1, after });
        expect(page.edges).toHaveLength(1);
        ids.push(page.edges[0]!.node.id);
        after = page.pageInfo.endCursor;
      }
      expect(new Set(ids).size).toBe(depth);
      expect(ids).toEqual(whole.edges.map((edge) => edge.node.id));
      if (topic === null) expect(ids).toEqual((await expected('nebula', 'nebula')).all.slice(0, 9));
      // Pages of 2 straddling the boundary between exact hits and the rest.
      const first: SearchPage = await search({ query: 'nebula', topic, first: 2 });
      const second: SearchPage = await search({ query: 'nebula', topic, first: 3, after: first.pageInfo.endCursor });
      expect([...first.edges, ...second.edges].map((edge) => edge.node.id)).toEqual(ids.slice(0, Math.min(5, depth)));
    }
  });

  it('does not boost queries with web-search operators', async () => {
    for (const query of ['"quokka"', 'quokka -island', 'quokka -rottnest', 'quokka or wombat', 'QUOKKA OR wombat']) {
      const page = await search({ query, first: 10 });
      // Few matches: the fuzzy fallback appends trigram matches after the full-text ones.
      const fullText = page.edges.filter((edge) => edge.match === 'FULL_TEXT');
      expect(fullText.map((edge) => edge.node.id)).toEqual(await naive(query));
      expect(fullText.every((edge) => edge.rank <= 1)).toBe(true);
    }
    expect((await search({ query: '"quokka"', first: 1 })).edges[0]?.node.title).toBe('Quokka island');
    // An exclusion applies to the whole entry, not only the title that found it.
    const excluded = await search({ query: 'quokka -rottnest', first: 10 });
    expect(excluded.edges.filter((edge) => edge.match === 'FULL_TEXT').map((edge) => edge.node.title)).not.toContain(
      'Quokka island',
    );
    const quoted = await search({ query: '"nebula"', first: 5 });
    expect(quoted.edges.map((edge) => edge.node.id)).toEqual((await naive('nebula')).slice(0, 5));
  });
});
