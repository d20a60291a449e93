/**
 * Turns a natural-language question into search terms for `askKnowledge`:
 * words (letters and digits) lower-cased, minus question words and English
 * stop words, de-duplicated, at most {@link MAX_TERMS}. The repository then
 * ranks entries matching all terms first, then any of them.
 *
 * @example
 * questionTerms('What is the speed of light?') // ['speed', 'light']
 */
export const MAX_TERMS = 12;

const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his i if in into is it its itself just me more most my myself no nor not of off on once only or other our ours ' +
    'ourselves out over own same she should so some such than that the their theirs them themselves then there these they ' +
    'this those through to too under until up very was we were while with would you your yours yourself yourselves ' +
    // question words and conversational filler
    'what which who whom whose when where why how whats whos hows ' +
    'tell explain describe define definition meaning mean means please know kind sort type thing things ' +
    'give show find example examples called call one someone something anything also like get got us'
  ).split(/\s+/),
);

export function questionTerms(question: string): string[] {
  const words =
    question
      .toLowerCase()
      .normalize('NFKC')
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  const terms: string[] = [];
  for (const word of words) {
    if (word.length < 2 && !/\p{N}/u.test(word)) continue;
    if (STOP_WORDS.has(word) || terms.includes(word)) continue;
    terms.push(word);
    if (terms.length === MAX_TERMS) break;
  }
  return terms;
}
