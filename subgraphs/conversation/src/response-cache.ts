import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { countCacheLookup } from '@supergraph/platform';
import type { Passage } from './responders/responder.ts';

/** What a reply depends on: the droid as configured, the prompt, and what retrieval found. */
export interface ResponseCacheKeyParts {
  droid: {
    id: string;
    name: string;
    persona: string;
    provider: string;
    baseUrl: string | null;
    model: string | null;
    knowledgeBase: boolean;
    storageUnits: readonly string[];
  };
  prompt: string;
  passages: readonly Pick<Passage, 'id' | 'text'>[];
}

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  size: number;
  maxEntries: number;
}

/**
 * Finished replies of this process by what produced them, so asking a droid
 * the same question over the same retrieved passages streams the stored text
 * instead of calling the responder again (an LLM call costs time and money).
 * Per process on purpose: a miss only costs one generation.
 */
export class ResponseCache {
  readonly #entries: LRUCache<string, string>;
  readonly #maxEntries: number;
  #hits = 0;
  #misses = 0;

  constructor({ maxEntries = 1000, ttlMs = 3_600_000 }: { maxEntries?: number; ttlMs?: number } = {}) {
    this.#maxEntries = maxEntries;
    this.#entries = new LRUCache({ max: maxEntries, ttl: ttlMs });
  }

  /** sha256 of the parts, in a fixed order (so equal inputs always meet). */
  static keyOf(parts: ResponseCacheKeyParts): string {
    const canonical = JSON.stringify([
      parts.droid.id,
      parts.droid.name,
      parts.droid.persona,
      parts.droid.provider,
      parts.droid.baseUrl,
      parts.droid.model,
      parts.droid.knowledgeBase,
      [...parts.droid.storageUnits].sort(),
      parts.prompt,
      parts.passages.map((passage) => [passage.id, passage.text]),
    ]);
    return createHash('sha256').update(canonical).digest('hex');
  }

  /** The cached reply text, counting a hit or a miss. */
  get(key: string): string | undefined {
    const text = this.#entries.get(key);
    if (text === undefined) this.#misses++;
    else this.#hits++;
    countCacheLookup('conversation', 'response', text !== undefined);
    return text;
  }

  set(key: string, text: string): void {
    this.#entries.set(key, text);
  }

  stats(): ResponseCacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries.size, maxEntries: this.#maxEntries };
  }
}

/** A cached reply cut back into deltas (a few words each), so a hit streams like a generation. */
export function splitIntoDeltas(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}
