import { describe, expect, it } from 'vitest';
import { searchQueryFor } from './retrieval.ts';
import { ResponseCache, splitIntoDeltas } from './response-cache.ts';

describe('searchQueryFor', () => {
  it('ORs the longest distinct words of the prompt, in prompt order, without punctuation', () => {
    expect(searchQueryFor('What is a photon, and why does light bend?')).toBe(
      'what or photon or why or does or light or bend',
    );
    expect(searchQueryFor('Explain quantum entanglement, superposition & decoherence to me, please!')).toBe(
      'explain or quantum or entanglement or superposition or decoherence or please',
    );
    expect(searchQueryFor('?!')).toBe('');
    expect(searchQueryFor('or and not OR')).toBe('');
  });
});

describe('ResponseCache', () => {
  const parts = {
    droid: {
      id: 'd',
      name: 'n',
      persona: '',
      provider: 'GROUNDED',
      baseUrl: null,
      model: null,
      knowledgeBase: true,
      storageUnits: ['b', 'a'],
    },
    prompt: 'p',
    passages: [{ id: '1', text: 't' }],
  };

  it('keys by droid config, prompt and passages; counts hits and misses', () => {
    const cache = new ResponseCache({ maxEntries: 2 });
    const key = ResponseCache.keyOf(parts);
    expect(ResponseCache.keyOf({ ...parts, droid: { ...parts.droid, storageUnits: ['a', 'b'] } })).toBe(key);
    expect(ResponseCache.keyOf({ ...parts, prompt: 'q' })).not.toBe(key);
    expect(ResponseCache.keyOf({ ...parts, passages: [{ id: '1', text: 'changed' }] })).not.toBe(key);
    expect(ResponseCache.keyOf({ ...parts, droid: { ...parts.droid, persona: 'x' } })).not.toBe(key);
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, 'hello world');
    expect(cache.get(key)).toBe('hello world');
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, size: 1, maxEntries: 2 });
  });

  it('cuts a cached reply into deltas that join back to it', () => {
    const text = 'One two  three\nfour ';
    expect(splitIntoDeltas(text).join('')).toBe(text);
    expect(splitIntoDeltas(text).length).toBeGreaterThan(3);
  });
});
