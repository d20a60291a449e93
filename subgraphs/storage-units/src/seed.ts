import { createDatabase, type DatabaseTarget } from '@supergraph/db';
import type { SeedOptions as SharedSeedOptions } from '@supergraph/kit';
import {
  batches,
  countWordnetSynsets,
  createProgress,
  readWordnetSynsets,
  type WordnetSynset,
} from '@supergraph/seeding';
import { upsertSeedRecords } from './records.repository.ts';
import { syncUnitRegistry } from './registry.repository.ts';
import { countRecords } from './stats.repository.ts';
import type { NewRecord, StorageDb } from './storage.table.ts';
import { REGISTRY_SCHEMA, UNITS, type StorageUnitDefinition } from './units.ts';
import { LIMITS } from './validation.ts';

/**
 * `limit` means what it means for every seeder (`SEED_LIMIT`): read only the
 * first N WordNet synsets, each routed to the units it matches as usual, so a
 * unit gets however many of those N match it (possibly none: about 19,000
 * synsets give every unit at least 5).
 */
export interface SeedOptions extends SharedSeedOptions {
  /** Show the progress bar (stderr). Default true. */
  progress?: boolean;
}

export interface SeedReport {
  /** Synsets read (all of WordNet, or the first `limit`). */
  read: number;
  /** Per unit: synsets that matched, rows inserted or changed this run, rows in the unit afterwards. */
  units: Array<{ id: string; matched: number; written: number; records: number }>;
  durationMs: number;
}

const SOURCE = 'wordnet-3.1';
const BATCH_SIZE = 500;

/** Whether a synset belongs in `unit`: one of its topic domains, or its definition matching the unit's pattern. */
export function synsetMatchesUnit(synset: WordnetSynset, unit: StorageUnitDefinition): boolean {
  if (synset.topicDomains.some((domain) => unit.topicDomains.includes(domain))) return true;
  return unit.glossPattern?.test(synset.gloss) ?? false;
}

function toSeedRecord(synset: WordnetSynset): NewRecord {
  const tags = [...new Set([...synset.topicDomains, synset.lexFile])]
    .map((tag) => tag.slice(0, LIMITS.tagMaxChars))
    .slice(0, LIMITS.tagsMax);
  return {
    title: synset.title.slice(0, LIMITS.titleMaxChars),
    content: synset.gloss.length > 0 ? synset.gloss : synset.title,
    tags,
    source: SOURCE,
    author_id: null,
    external_id: `wordnet:${synset.id}`,
  };
}

/**
 * Seeds every unit with the WordNet synsets of its topic domains, streaming
 * the dictionary once (or its first `limit` synsets) and inserting in batches
 * of 500 per unit. Idempotent: records are keyed by
 * `external_id = 'wordnet:<synset id>'`, so a re-run writes nothing unless
 * WordNet changed. Also upserts the registry rows.
 *
 * @example
 * // The first 20,000 synsets: a few records in every unit (tests).
 * const report = await seedStorageUnits(target, { log: console.log, limit: 20_000 });
 */
export async function seedStorageUnits(target: DatabaseTarget, options: SeedOptions = {}): Promise<SeedReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const database = createDatabase<StorageDb>(target, { schema: REGISTRY_SCHEMA, statementTimeoutMs: 120_000 });
  try {
    const { db } = database;
    await syncUnitRegistry(db);
    const state = new Map(UNITS.map((unit) => [unit.id, { unit, matched: 0, written: 0, pending: [] as NewRecord[] }]));
    const flush = async (entry: { unit: StorageUnitDefinition; written: number; pending: NewRecord[] }) => {
      if (entry.pending.length === 0) return;
      const rows = entry.pending;
      entry.pending = [];
      entry.written += await upsertSeedRecords(db, entry.unit, rows);
    };
    const available = await countWordnetSynsets();
    const total = Math.min(options.limit ?? available, available);
    const progress =
      options.progress === false ? { tick: () => {}, stop: () => {} } : createProgress('storage-units seed', total);
    let read = 0;
    try {
      for await (const batch of batches(readWordnetSynsets(), 2_000)) {
        const synsets = batch.slice(0, total - read);
        for (const synset of synsets) {
          for (const entry of state.values()) {
            if (!synsetMatchesUnit(synset, entry.unit)) continue;
            entry.matched++;
            entry.pending.push(toSeedRecord(synset));
            if (entry.pending.length >= BATCH_SIZE) await flush(entry);
          }
        }
        read += synsets.length;
        progress.tick(synsets.length);
        if (read >= total) break;
      }
      for (const entry of state.values()) await flush(entry);
    } finally {
      progress.stop();
    }
    const units = [];
    for (const entry of state.values()) {
      const records = await countRecords(db, entry.unit);
      units.push({ id: entry.unit.id, matched: entry.matched, written: entry.written, records });
      log(
        `[seed] storage-units ${entry.unit.id}: ${entry.matched} synsets matched, ${entry.written} written, ${records} records`,
      );
    }
    const durationMs = performance.now() - started;
    log(`[seed] storage-units done (${read} synsets read) in ${(durationMs / 1000).toFixed(1)} s`);
    return { read, units, durationMs };
  } finally {
    await database.close();
  }
}
