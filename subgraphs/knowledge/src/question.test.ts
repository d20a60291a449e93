import { describe, expect, it } from 'vitest';
import { toSnippetHtml } from '@supergraph/kit';
import { fuzzyTextOf } from './query-text.ts';
import { MAX_TERMS, questionTerms } from './question.ts';

describe('questionTerms', () => {
  it('keeps content words, drops question and stop words', () => {
    expect(questionTerms('What is the speed of light?')).toEqual(['speed', 'light']);
    expect(questionTerms('How do plants make food?')).toEqual(['plants', 'make', 'food']);
    expect(questionTerms('Who discovered penicillin in 1928?')).toEqual(['discovered', 'penicillin', '1928']);
  });

  it('returns nothing for a question without content words', () => {
    expect(questionTerms('What is it?')).toEqual([]);
    expect(questionTerms('?!')).toEqual([]);
  });

  it('drops operators and quotes, de-duplicates, caps the number of terms', () => {
    expect(questionTerms("light & dark | 'light' !shadow:*")).toEqual(['light', 'dark', 'shadow']);
    const many = Array.from({ length: 30 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}${i}`).join(' ');
    expect(questionTerms(many)).toHaveLength(MAX_TERMS);
  });

  it('keeps letters of any script', () => {
    expect(questionTerms('Qu’est-ce que la lumière ?')).toEqual(['qu', 'est', 'ce', 'que', 'la', 'lumière']);
  });
});

describe('search helpers', () => {
  it('strips web-search operators for the trigram fallback', () => {
    expect(fuzzyTextOf('"fotosynthesis of" plants -sugar or light')).toBe('fotosynthesis of plants light');
  });

  it('escapes snippets and keeps only our highlight marks', () => {
    expect(toSnippetHtml('a <b>x</b> & \u0002light\u0003 "q"')).toBe(
      'a &lt;b&gt;x&lt;/b&gt; &amp; <b>light</b> &quot;q&quot;',
    );
  });
});
