import { createDatabase, type DatabaseTarget } from '@supergraph/db';
import {
  batches,
  countWordnetSynsets,
  createProgress,
  readWordnetSynsets,
  type WordnetSynset,
} from '@supergraph/seeding';
import { countEntriesFromSource, insertEntriesIfAbsent, recordIngestRun } from './entries.repository.ts';
import { refreshFrequentLexemes, type FrequentLexemeOptions } from './frequent-lexemes.repository.ts';
import type { KnowledgeDb, NewEntry } from './knowledge.table.ts';

export const WORDNET_SOURCE = 'wordnet-3.1';

export interface SeedKnowledgeOptions {
  log?: (line: string) => void;
  /** Show the kit progress bar (rate, ETA) on stderr. Default true. */
  progress?: boolean;
  /** Import only the first `limit` synsets (tests). */
  limit?: number;
  /** Rows per multi-row INSERT. Default 1000. */
  batchSize?: number;
  /** Top lists of very common lexemes, rebuilt after the import (`refreshFrequentLexemes`). */
  frequentLexemes?: Partial<FrequentLexemeOptions>;
}

export interface SeedKnowledgeReport {
  /** Synsets read from WordNet (0 when skipped). */
  seen: number;
  /** Rows actually inserted. */
  added: number;
  /** True when the corpus was already there and nothing was read. */
  skipped: boolean;
  durationMs: number;
}

/**
 * Imports WordNet 3.1 into `knowledge.entries` (lemmas → title, gloss → body,
 * lexicographer file → topic, topic domains → tags), streaming 1,000 rows per
 * INSERT. Idempotent: a run finding every synset already imported reads
 * nothing; otherwise `on conflict (external_id) do nothing` skips the rows
 * that exist. Migrations must have run. Records an `ingest_runs` row, then
 * rebuilds the top lists of very common lexemes (also when the corpus was
 * complete but the lists are empty).
 *
 * @example
 * await seedKnowledge({ kind: 'postgres', url }, { log: console.log });
 */
export async function seedKnowledge(
  target: DatabaseTarget,
  options: SeedKnowledgeOptions = {},
): Promise<SeedKnowledgeReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const database = createDatabase<KnowledgeDb>(target, { schema: 'knowledge', poolMax: 1, statementTimeoutMs: 0 });
  try {
    const available = await countWordnetSynsets();
    const total = Math.min(options.limit ?? available, available);
    const existing = await countEntriesFromSource(database.db, WORDNET_SOURCE);
    if (existing >= total) {
      log(`[seed] knowledge: WordNet already imported (${existing} entries), nothing to do`);
      const listed = await database.db.selectFrom('frequent_lexeme_terms').select('lexeme').limit(1).execute();
      if (listed.length === 0) await refreshFrequentLexemes(database.db, options.frequentLexemes);
      return { seen: 0, added: 0, skipped: true, durationMs: performance.now() - started };
    }
    const startedAt = new Date();
    const progress = options.progress === false ? undefined : createProgress('knowledge: WordNet 3.1', total);
    let seen = 0;
    let added = 0;
    try {
      for await (const batch of batches(firstOf(readWordnetSynsets(), total), options.batchSize ?? 1000)) {
        added += await insertEntriesIfAbsent(database.db, batch.map(toEntry));
        seen += batch.length;
        progress?.tick(batch.length);
      }
    } finally {
      progress?.stop();
    }
    await recordIngestRun(database.db, { source: WORDNET_SOURCE, startedAt, seen, added });
    const lists = await refreshFrequentLexemes(database.db, options.frequentLexemes);
    log(
      `[seed] knowledge: top lists of ${lists.lexemes} frequent lexemes rebuilt in ${(lists.durationMs / 1000).toFixed(1)} s`,
    );
    const durationMs = performance.now() - started;
    log(`[seed] knowledge: ${added} of ${seen} WordNet synsets added in ${(durationMs / 1000).toFixed(1)} s`);
    return { seen, added, skipped: false, durationMs };
  } finally {
    await database.close();
  }
}

export function toEntry(synset: WordnetSynset): NewEntry {
  return {
    external_id: `wordnet:${synset.id}`,
    title: synset.title.slice(0, 500),
    body: synset.gloss,
    topic: synset.lexFile,
    tags: synset.topicDomains.slice(0, 20).map((tag) => tag.slice(0, 64)),
    source: WORDNET_SOURCE,
    language: 'en',
    author_id: null,
  };
}

async function* firstOf<T>(source: AsyncGenerator<T>, count: number): AsyncGenerator<T> {
  if (count <= 0) return;
  let taken = 0;
  for await (const item of source) {
    yield item;
    if (++taken >= count) break;
  }
}
