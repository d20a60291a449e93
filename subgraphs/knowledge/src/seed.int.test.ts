import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedKnowledge } from './seed.ts';
import { startHarness, userIdentity, type KnowledgeHarness } from './testing/harness.ts';

let harness: KnowledgeHarness;
const reader = userIdentity({ tier: 'enterprise' });

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness?.close();
});

describe('seedKnowledge (first WordNet synsets)', () => {
  it('imports a slice, then only what is missing, then nothing', async () => {
    const lines: string[] = [];
    const first = await seedKnowledge(harness.database.target, {
      limit: 1000,
      progress: false,
      log: (line) => lines.push(line),
    });
    expect(first).toMatchObject({ seen: 1000, added: 1000, skipped: false });
    const second = await seedKnowledge(harness.database.target, { limit: 2000, progress: false, batchSize: 300 });
    expect(second).toMatchObject({ seen: 2000, added: 1000, skipped: false });
    const third = await seedKnowledge(harness.database.target, { limit: 2000, progress: false });
    expect(third).toMatchObject({ seen: 0, added: 0, skipped: true });
    expect(lines.join('\n')).toMatch(/1000 of 1000 WordNet synsets added/);
  });

  it('maps lemmas, gloss, lexicographer file and topic domains', async () => {
    const result = await harness.call<{
      searchKnowledge: {
        edges: Array<{
          node: {
            title: string;
            body: string;
            topic: string;
            tags: string[];
            source: string;
            language: string;
            externalId: string;
            author: null;
          };
        }>;
      };
    }>(
      `{ searchKnowledge(query: "entity", first: 5) { edges { node { title body topic tags source language externalId author { id } } } } }`,
      {},
      reader,
    );
    const entity = result.data!.searchKnowledge.edges.find(
      (edge) => edge.node.externalId === 'wordnet:n00001740',
    )?.node;
    expect(entity).toMatchObject({
      title: 'entity',
      topic: 'noun.Tops',
      source: 'wordnet-3.1',
      language: 'en',
      author: null,
    });
    expect(entity?.body).toMatch(/perceived or known or inferred/);
  });

  it('records the ingest time and the topics', async () => {
    const result = await harness.call<{
      knowledgeStats: { entries: number; lastIngestAt: string };
      knowledgeTopics: Array<{ topic: string; count: number }>;
    }>('{ knowledgeStats { entries lastIngestAt } knowledgeTopics { topic count } }', {}, reader);
    expect(result.data?.knowledgeStats.entries).toBe(2000);
    expect(Date.now() - Date.parse(result.data!.knowledgeStats.lastIngestAt)).toBeLessThan(120_000);
    const total = result.data!.knowledgeTopics.reduce((sum, topic) => sum + topic.count, 0);
    expect(total).toBe(2000);
  });
});
