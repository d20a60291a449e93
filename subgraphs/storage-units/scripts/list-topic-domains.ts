/**
 * Lists the WordNet topic domains with their synset counts, most used first,
 * so the domain lists in `src/units.ts` can be checked against the data.
 *
 * Run: `npm exec -- node subgraphs/storage-units/scripts/list-topic-domains.ts`
 */
import { readWordnetSynsets } from '@supergraph/seeding';

const counts = new Map<string, number>();
for await (const synset of readWordnetSynsets()) {
  for (const domain of synset.topicDomains) counts.set(domain, (counts.get(domain) ?? 0) + 1);
}
for (const [domain, count] of [...counts].sort((a, b) => b[1] - a[1]))
  console.log(`${String(count).padStart(6)} ${domain}`);
