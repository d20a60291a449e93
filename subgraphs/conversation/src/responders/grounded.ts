import { setTimeout as sleep } from 'node:timers/promises';
import { ResponderError, type Passage, type ResponderRequest } from './responder.ts';
import type { StreamingResponder } from './streaming-responder.ts';

export interface GroundedResponderOptions {
  /**
   * Pause between two tokens, so a person watching sees the reply stream
   * (`npm start` uses ~15 ms). 0, the default, streams as fast as the consumer reads (tests).
   */
  tokenDelayMs?: number;
}

/** At most this many sentences quote the passages: a short answer a reader can check against its sources. */
const MAX_SENTENCES = 4;
/** A quoted sentence is cut at a word boundary past this length (glosses can run long). */
const MAX_SENTENCE_CHARS = 320;

/**
 * Words that say nothing about what the prompt is about; they would make every
 * sentence overlap with every question.
 */
const STOP_WORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both ' +
    'but by can could did do does doing down during each few for from further had has have having he her here hers ' +
    'him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our ' +
    'ours out over own please same she should so some such tell than that the their them then there these they this ' +
    'those through to too under until up us very was we were what when where which while who whom why will with ' +
    'would you your yours explain describe know mean means'
  ).split(' '),
);

/**
 * The built-in responder: an answer composed from the retrieved passages
 * alone, so conversations work offline and the same passages always give the
 * same reply (see `composeGroundedAnswer`).
 *
 * @example
 * const responder = createGroundedResponder({ tokenDelayMs: 15 });
 * for await (const token of responder.respond(request)) process.stdout.write(token);
 */
export function createGroundedResponder(options: GroundedResponderOptions = {}): StreamingResponder {
  const tokenDelayMs = Math.max(0, options.tokenDelayMs ?? 0);
  return {
    kind: 'GROUNDED',
    async *respond(request) {
      throwIfCancelled(request.signal);
      const tokens = tokenize(composeGroundedAnswer(request));
      for (const [index, token] of tokens.entries()) {
        if (index > 0 && tokenDelayMs > 0) {
          try {
            await sleep(tokenDelayMs, undefined, { signal: request.signal });
          } catch (error) {
            throw new ResponderError('cancelled', { cause: error });
          }
        }
        throwIfCancelled(request.signal);
        yield token;
      }
      return { finishReason: 'stop' };
    },
  };
}

/**
 * The grounded reply as one text: a lead-in, up to four sentences from the
 * passages that share the most words with the prompt (ties go to the better
 * passage), each followed by its citation marker, and a `Sources:` line naming
 * each cited passage with its id (`knowledge:<id>`, `unit:<unit>:<id>`) so a UI
 * can link it. No passages → an honest "nothing found" instead of a guess.
 *
 * @example
 * composeGroundedAnswer({ droid, prompt: 'What is a black hole?', passages: [blackHole] })
 * // 'Vega here. From 1 source in my knowledge scope:\n\nA black hole is a region ... escape it [1].\n\nSources: [1] Black hole (knowledge:k1)'
 */
export function composeGroundedAnswer(request: Pick<ResponderRequest, 'droid' | 'prompt' | 'passages'>): string {
  const name = oneLine(request.droid.name) || 'Your droid';
  const passages = request.passages.filter((passage) => oneLine(passage.text) !== '');
  if (passages.length === 0) {
    return (
      `${name} here. I found nothing relevant to that in my knowledge scope, so I can't answer it from my sources. ` +
      'Try rephrasing the question, or widen this droid\u2019s knowledge scope.'
    );
  }

  const chosen = chooseSentences(passages, contentWords(request.prompt));
  const citationOf = new Map<number, number>();
  for (const { passageIndex } of chosen) {
    if (!citationOf.has(passageIndex)) citationOf.set(passageIndex, citationOf.size + 1);
  }
  const body = chosen.map(({ passageIndex, text }) => cite(text, citationOf.get(passageIndex) ?? 0)).join(' ');
  const sources = [...citationOf].map(([passageIndex, number]) => {
    const passage = passages[passageIndex] as Passage;
    return `[${number}] ${oneLine(passage.title) || 'Untitled'} (${referenceOf(passage)})`;
  });
  const count = citationOf.size === 1 ? '1 source' : `${citationOf.size} sources`;
  return `${name} here. From ${count} in my knowledge scope:\n\n${body}\n\nSources: ${sources.join(' ')}`;
}

/**
 * The reply cut into stream tokens: each word with the whitespace after it,
 * so the tokens joined give the text back exactly.
 *
 * @example
 * tokenize('Hello, world.\n\nBye') // ['Hello, ', 'world.\n\n', 'Bye']
 */
export function tokenize(text: string): string[] {
  const leading = /^\s+/.exec(text)?.[0] ?? '';
  const tokens: string[] = [...(text.match(/\S+\s*/g) ?? [])];
  if (leading !== '') tokens.unshift(leading);
  return tokens;
}

interface Candidate {
  passageIndex: number;
  sentenceIndex: number;
  text: string;
  overlap: number;
}

/**
 * The sentences to quote, in reading order (passage, then position). Overlap
 * with the prompt's content words decides; when no sentence shares a word
 * (retrieval matched on stems or synonyms), the best passages' opening
 * sentences stand in, since retrieval already judged them relevant.
 */
function chooseSentences(passages: readonly Passage[], promptWords: ReadonlySet<string>): Candidate[] {
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  for (const [passageIndex, passage] of passages.entries()) {
    for (const [sentenceIndex, text] of sentencesOf(passage.text).entries()) {
      const key = text.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      let overlap = 0;
      for (const word of contentWords(text)) if (promptWords.has(word)) overlap += 1;
      candidates.push({ passageIndex, sentenceIndex, text, overlap });
    }
  }
  const byReadingOrder = (a: Candidate, b: Candidate) =>
    a.passageIndex - b.passageIndex || a.sentenceIndex - b.sentenceIndex;
  const overlapping = candidates
    .filter((candidate) => candidate.overlap > 0)
    .sort((a, b) => b.overlap - a.overlap || byReadingOrder(a, b))
    .slice(0, MAX_SENTENCES);
  if (overlapping.length > 0) return overlapping.sort(byReadingOrder);
  return candidates.filter((candidate) => candidate.sentenceIndex === 0).slice(0, 2);
}

/** A passage's sentences, whitespace collapsed, long ones cut at a word boundary. */
function sentencesOf(text: string): string[] {
  return oneLine(text)
    .split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'(\u201c])/u)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== '')
    .map((sentence) => {
      if (sentence.length <= MAX_SENTENCE_CHARS) return sentence;
      const cut = sentence.slice(0, MAX_SENTENCE_CHARS);
      return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), MAX_SENTENCE_CHARS / 2)).trimEnd()}\u2026`;
    });
}

/** The lower-cased words of a text that carry meaning (no stop words, no single letters). */
function contentWords(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return new Set(words.filter((word) => word.length > 1 && !STOP_WORDS.has(word)));
}

/** `A sentence [1].`: the marker goes before the sentence's closing punctuation. */
function cite(sentence: string, number: number): string {
  const match = /^(.*?)([.!?]*)$/su.exec(sentence);
  const [, words = sentence, punctuation = ''] = match ?? [];
  return `${words} [${number}]${punctuation || '.'}`;
}

/** How the `Sources:` line names a passage: `knowledge:<id>` or `unit:<unit>:<id>`. */
function referenceOf(passage: Passage): string {
  return passage.source === 'unit' ? `unit:${passage.unitId ?? 'unknown'}:${passage.id}` : `knowledge:${passage.id}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new ResponderError('cancelled');
}
