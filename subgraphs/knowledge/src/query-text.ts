/**
 * What the search makes of a web-search query's text besides the tsquery
 * PostgreSQL parses from it (`websearch_to_tsquery`): the text an exact title
 * must equal, and the words the trigram fallback compares with titles.
 */

/**
 * The text an exact title lemma must equal: the query trimmed, inner
 * whitespace collapsed (lower-cased in SQL, like the index expression), or
 * null when the query uses web-search operators (`"phrase"`, `-word`, `or`),
 * which ask for something else than "the entry named so".
 *
 * @example
 * exactTitleOf('  black   hole ') // 'black hole'
 * exactTitleOf('"black hole"') // null
 */
export function exactTitleOf(query: string): string | null {
  const text = query.trim().replace(/\s+/g, ' ');
  if (text === '' || text.length > 500 || text.includes('"')) return null;
  const words = text.split(' ');
  if (words.some((word) => word.startsWith('-') || word.toLowerCase() === 'or')) return null;
  return text;
}

/**
 * The words of a web-search query without its operators, for trigram matching.
 *
 * @example
 * fuzzyTextOf('"black hole" -star or comet') // 'black hole comet'
 */
export function fuzzyTextOf(query: string): string {
  return query
    .replace(/["()]/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '' && !word.startsWith('-') && word.toLowerCase() !== 'or')
    .join(' ')
    .slice(0, 200);
}
