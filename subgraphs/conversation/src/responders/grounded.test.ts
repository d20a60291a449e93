import { describe, expect, it } from 'vitest';
import { composeGroundedAnswer, createGroundedResponder, tokenize } from './grounded.ts';
import { ResponderError, type Passage, type ResponderRequest } from './responder.ts';

const droid = { id: 'd1', name: 'Vega', persona: 'A patient astronomy tutor.', baseUrl: null, model: null };

const passages: Passage[] = [
  {
    id: 'k-black-hole',
    source: 'knowledge',
    title: 'Black hole',
    text:
      'A black hole is a region of spacetime where gravity is so strong that nothing can escape. ' +
      'The boundary of no escape is called the event horizon. Black holes form when massive stars collapse.',
    rank: 0.9,
  },
  {
    id: 'r-42',
    source: 'unit',
    unitId: 'physics',
    title: 'Hawking radiation',
    text: 'Hawking radiation is thermal radiation that black holes emit because of quantum effects near the horizon.',
    rank: 0.7,
  },
  {
    id: 'k-comet',
    source: 'knowledge',
    title: 'Comet',
    text: 'A comet is an icy body of the solar system.',
    rank: 0.2,
  },
];

function request(overrides: Partial<ResponderRequest> = {}): ResponderRequest {
  return {
    droid,
    prompt: 'What is a black hole and does it emit radiation?',
    history: [],
    passages,
    apiKey: null,
    signal: new AbortController().signal,
    ...overrides,
  };
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const tokens: string[] = [];
  for await (const token of iterable) tokens.push(token);
  return tokens;
}

describe('composeGroundedAnswer', () => {
  it('quotes the overlapping sentences in reading order, each cited, and lists the sources with their ids', () => {
    expect(composeGroundedAnswer(request())).toBe(
      'Vega here. From 2 sources in my knowledge scope:\n\n' +
        'A black hole is a region of spacetime where gravity is so strong that nothing can escape [1]. ' +
        'Black holes form when massive stars collapse [1]. ' +
        'Hawking radiation is thermal radiation that black holes emit because of quantum effects near the horizon [2].' +
        '\n\nSources: [1] Black hole (knowledge:k-black-hole) [2] Hawking radiation (unit:physics:r-42)',
    );
  });

  it('is deterministic: the same passages give the same reply', () => {
    expect(composeGroundedAnswer(request())).toBe(composeGroundedAnswer(request()));
  });

  it('quotes at most four sentences and cites only the passages it quotes', () => {
    const many: Passage[] = Array.from({ length: 6 }, (_, index) => ({
      id: `k${index}`,
      source: 'knowledge',
      title: `Star ${index}`,
      text: `Stars shine because of fusion, variant ${index}.`,
      rank: 1 - index / 10,
    }));
    const answer = composeGroundedAnswer(request({ prompt: 'Why do stars shine?', passages: many }));
    expect(answer.match(/\[\d\]\./g)).toHaveLength(4);
    expect(answer).toContain('Sources: [1] Star 0 (knowledge:k0) [2] Star 1 (knowledge:k1)');
    expect(answer).not.toContain('k4');
  });

  it('falls back to the best passages’ opening sentences when no word overlaps (retrieval matched otherwise)', () => {
    const answer = composeGroundedAnswer(request({ prompt: 'singularities?' }));
    expect(answer).toContain(
      'A black hole is a region of spacetime where gravity is so strong that nothing can escape [1].',
    );
    expect(answer).toContain('Hawking radiation is thermal radiation');
    expect(answer).not.toContain('Comet');
  });

  it('says honestly that nothing relevant was found when there are no passages', () => {
    const answer = composeGroundedAnswer(request({ passages: [] }));
    expect(answer).toMatch(/^Vega here\. I found nothing relevant to that in my knowledge scope/);
    expect(answer).not.toMatch(/\[\d\]|Sources:/);
  });

  it('keeps titles on one line and cuts very long sentences at a word boundary', () => {
    const long: Passage = {
      id: 'k-long',
      source: 'knowledge',
      title: 'Multi\nline   title',
      text: `Orbit ${'word '.repeat(200)}end.`,
      rank: 1,
    };
    const answer = composeGroundedAnswer(request({ prompt: 'orbit', passages: [long] }));
    expect(answer).toContain('Sources: [1] Multi line title (knowledge:k-long)');
    expect(answer).toMatch(/word\u2026 \[1\]\.\n/);
    expect(answer.length).toBeLessThan(500);
  });
});

describe('tokenize', () => {
  it('keeps the whitespace, so the tokens give the text back', () => {
    const text = 'Hello, world.\n\nSources: [1] x';
    expect(tokenize(text)).toEqual(['Hello, ', 'world.\n\n', 'Sources: ', '[1] ', 'x']);
    expect(tokenize('  lead').join('')).toBe('  lead');
  });
});

describe('createGroundedResponder', () => {
  it('streams the composed answer token by token', async () => {
    const tokens = await collect(createGroundedResponder().respond(request()));
    expect(tokens.length).toBeGreaterThan(20);
    expect(tokens.join('')).toBe(composeGroundedAnswer(request()));
    expect(tokens.every((token) => /^\S+\s*$/.test(token))).toBe(true);
  });

  it('returns finishReason stop to a reader of the generator', async () => {
    const generator = createGroundedResponder().respond(request());
    let result = await generator.next();
    while (!result.done) result = await generator.next();
    expect(result.value).toEqual({ finishReason: 'stop' });
  });

  it('refuses an already cancelled request', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(collect(createGroundedResponder().respond(request({ signal: controller.signal })))).rejects.toThrow(
      new ResponderError('cancelled'),
    );
  });

  it('stops promptly when cancelled mid-stream, even while waiting between tokens', async () => {
    const controller = new AbortController();
    // An hour between tokens: only the abort can end this test in time.
    const responder = createGroundedResponder({ tokenDelayMs: 3_600_000 });
    const tokens: string[] = [];
    const consuming = (async () => {
      for await (const token of responder.respond(request({ signal: controller.signal }))) {
        tokens.push(token);
        controller.abort();
      }
    })();
    const error = await consuming.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ResponderError);
    expect((error as ResponderError).reason).toBe('cancelled');
    expect(tokens).toEqual(['Vega ']);
  });

  it('stops when cancelled between tokens without a delay', async () => {
    const controller = new AbortController();
    const tokens: string[] = [];
    await expect(
      (async () => {
        for await (const token of createGroundedResponder().respond(request({ signal: controller.signal }))) {
          tokens.push(token);
          if (tokens.length === 3) controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ name: 'ResponderError', reason: 'cancelled' });
    expect(tokens).toHaveLength(3);
  });
});
