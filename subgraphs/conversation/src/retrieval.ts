import type { Passage } from './responders/responder.ts';

/** How many passages a responder gets, at most. */
export const PASSAGE_LIMIT = 5;

/** A passage's text is cut here: enough to ground an answer, small enough for any prompt. */
const PASSAGE_CHARS = 1200;

const SEARCH_WORDS = 6;

/**
 * A web-search query from a prompt for knowledge's `searchKnowledge` (and the
 * units' search): punctuation stripped, the longest few distinct words ORed
 * together (`photon or light or speed`), so a long question still finds
 * entries that share only some of its words. Empty when nothing is left.
 */
export function searchQueryFor(prompt: string): string {
  const words = prompt
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]+/gu, ' ')
    .split(/\s+/)
    .filter((word) => word.length >= 3 && word !== 'or' && word !== 'and' && word !== 'not');
  const distinct = [...new Set(words)];
  const longest = distinct
    .map((word, index) => ({ word, index }))
    .sort((a, b) => b.word.length - a.word.length || a.index - b.index)
    .slice(0, SEARCH_WORDS)
    .sort((a, b) => a.index - b.index)
    .map(({ word }) => word);
  return longest.join(' or ');
}

export interface RetrievalScope {
  knowledgeBase: boolean;
  storageUnits: readonly string[];
}

interface KnowledgeHit {
  rank: number;
  node: { id: string; title: string; body: string };
}

interface UnitHit {
  node: { rank: number; record: { id: string; title: string; content: string } };
}

type SearchData = Record<string, { edges?: Array<KnowledgeHit | UnitHit> } | null>;

/**
 * Retrieves passages for `prompt` through the gateway (never another
 * subgraph's tables): one POST with `searchKnowledge` when the droid reads
 * the knowledge base and one aliased `searchUnit` per scoped unit, as the
 * user (the grant's access token). Sources that fail are skipped; a failure
 * of the whole request throws, and the caller carries on without passages.
 * Best first: each source's hits by rank, taken in turn from each source.
 */
export async function retrievePassages(options: {
  gatewayUrl: string;
  accessToken: string;
  prompt: string;
  scope: RetrievalScope;
  signal?: AbortSignal;
  timeoutMs?: number;
}): Promise<Passage[]> {
  const query = searchQueryFor(options.prompt);
  const units = options.scope.storageUnits;
  if (!query || (!options.scope.knowledgeBase && units.length === 0)) return [];
  const fields: string[] = [];
  const variables: Record<string, unknown> = { query, first: PASSAGE_LIMIT };
  const declarations = ['$query: String!', '$first: Int!'];
  if (options.scope.knowledgeBase)
    fields.push('knowledge: searchKnowledge(query: $query, first: $first) { edges { rank node { id title body } } }');
  units.forEach((unitId, index) => {
    declarations.push(`$unit${index}: ID!`);
    variables[`unit${index}`] = unitId;
    fields.push(
      `unit${index}: searchUnit(unitId: $unit${index}, query: $query, first: $first) { edges { node { rank record { id title content } } } }`,
    );
  });
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 5_000);
  const response = await fetch(options.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${options.accessToken}` },
    body: JSON.stringify({ query: `query Retrieve(${declarations.join(', ')}) { ${fields.join(' ')} }`, variables }),
    signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
  });
  const body = (await response.json().catch(() => null)) as { data?: SearchData | null } | null;
  if (!body?.data) throw new Error(`the gateway answered ${response.status} without data`);
  const sources: Passage[][] = [];
  const knowledge = body.data['knowledge']?.edges as KnowledgeHit[] | undefined;
  if (knowledge)
    sources.push(knowledge.map((hit) => toPassage('knowledge', hit.node.id, hit.node.title, hit.node.body, hit.rank)));
  units.forEach((unitId, index) => {
    const hits = body.data?.[`unit${index}`]?.edges as UnitHit[] | undefined;
    if (hits)
      sources.push(
        hits.map(({ node }) =>
          toPassage('unit', node.record.id, node.record.title, node.record.content, node.rank, unitId),
        ),
      );
  });
  return interleave(sources.map((passages) => [...passages].sort((a, b) => b.rank - a.rank))).slice(0, PASSAGE_LIMIT);
}

function toPassage(
  source: Passage['source'],
  id: string,
  title: string,
  text: string,
  rank: number,
  unitId?: string,
): Passage {
  return { id, source, ...(unitId ? { unitId } : {}), title, text: text.slice(0, PASSAGE_CHARS), rank };
}

/** The best of each source first, then the second best of each, ... (ranks are only comparable within a source). */
function interleave(sources: readonly Passage[][]): Passage[] {
  const result: Passage[] = [];
  const longest = Math.max(0, ...sources.map((source) => source.length));
  for (let index = 0; index < longest; index++) {
    for (const source of sources) {
      const passage = source[index];
      if (passage) result.push(passage);
    }
  }
  return result;
}
