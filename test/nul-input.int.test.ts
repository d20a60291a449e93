import type { RunningSubgraph } from '@supergraph/kit';
import { databaseSpec, startKnowledgeSubgraph } from '@supergraph/knowledge';
import { startTestServices, subgraphClient, userIdentity, type TestServices } from '@supergraph/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';

/** Finding 9 beyond auth: kit refuses NUL for every subgraph, here a knowledge mutation. */

const INGEST = 'mutation ($input: KnowledgeInput!) { ingestKnowledge(input: $input) { id body } }';

let services: TestServices;
let knowledge: RunningSubgraph;

beforeAll(async () => {
  services = await startTestServices([databaseSpec]);
  knowledge = await startKnowledgeSubgraph(
    {
      target: services.targetFor(databaseSpec),
      internalTokenKey: services.keys.verifyKey,
      redis: services.redis,
      rateLimits: { prefix: services.rateLimitPrefix('knowledge') },
    },
    0,
  );
});

afterAll(async () => {
  await knowledge?.stop();
  await services?.close();
});

it('ingestKnowledge refuses NUL in the title, the body or a tag with BAD_USER_INPUT; tabs and newlines pass', async () => {
  const client = subgraphClient({ url: knowledge.url, audience: 'knowledge', signingKey: services.keys.signingKey });
  const author = userIdentity({ tier: 'enterprise' });
  for (const [input, field] of [
    [{ title: 'nul\0title' }, 'input.title'],
    [{ title: 'ok', body: 'before\0after' }, 'input.body'],
    [{ title: 'ok', tags: ['fine', 'ba\0d'] }, 'input.tags[1]'],
  ] as const) {
    const result = await client.call(INGEST, { input }, author);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  }
  const stored = await client.call<{ ingestKnowledge: { body: string } }>(
    INGEST,
    { input: { title: 'clean', body: 'a\tb\nc' } },
    author,
  );
  expect(stored.errors).toBeUndefined();
  expect(stored.data?.ingestKnowledge.body).toBe('a\tb\nc');
});
