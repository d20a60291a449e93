import { decodeOffsetCursor, offsetCursor, requireIntInRange, requireUuid } from '@supergraph/kit';
import { badUserInput } from '@supergraph/platform';
import type { KnowledgeContext } from '../context.ts';
import type { KnowledgeSearchConnectionResolvers, QueryResolvers } from '../generated/resolvers.ts';
import {
  answerQuestion,
  countMatches,
  knowledgeStats,
  searchEntries,
  topicCounts,
  type RankedHit,
} from '../knowledge.repository.ts';
import { questionTerms } from '../question.ts';
import { LIMITS, validateFirst, validateQuery, validateTopic } from '../validation.ts';
import { toKnowledgeEntry, type SearchConnectionModel } from './mappers.ts';

function primeAndMap(ctx: KnowledgeContext, hits: readonly RankedHit[]) {
  for (const hit of hits) ctx.loaders.entryById.prime(hit.entry.id, hit.entry);
  return hits.map((hit) => ({
    node: toKnowledgeEntry(hit.entry),
    rank: hit.rank,
    snippet: hit.snippet,
    match: hit.match,
  }));
}

export const Query: QueryResolvers = {
  async knowledgeEntry(_, args, ctx) {
    const row = await ctx.loaders.entryById.load(requireUuid(args.id, 'id'));
    return row ? toKnowledgeEntry(row) : null;
  },

  async searchKnowledge(_, args, ctx): Promise<SearchConnectionModel> {
    const query = validateQuery(args.query);
    const topic = validateTopic(args.topic);
    const first = validateFirst(args.first);
    const offset = decodeOffsetCursor(args.after);
    if (offset > LIMITS.searchOffsetMax) throw badUserInput('after points beyond the last reachable result', 'after');
    const { hits, hasNextPage } = await searchEntries(ctx.db, {
      query,
      topic,
      limit: first,
      offset,
      candidateCap: ctx.search.candidateCap,
      fuzzyBelow: ctx.search.fuzzyBelow,
    });
    const edges = primeAndMap(ctx, hits).map((edge, index) => ({ ...edge, cursor: offsetCursor(offset + index) }));
    let counting: Promise<number> | undefined;
    return {
      edges,
      pageInfo: {
        hasNextPage,
        hasPreviousPage: offset > 0,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
      count: () => (counting ??= countMatches(ctx.db, query, topic, ctx.search.countCap + 1)),
      countCap: ctx.search.countCap,
    };
  },

  async askKnowledge(_, args, ctx) {
    const question = validateQuery(args.question, 'question');
    const first = requireIntInRange(args.first, 'first', 1, LIMITS.pageMax);
    const hits = await answerQuestion(ctx.db, questionTerms(question), {
      limit: first,
      candidateCap: ctx.search.candidateCap,
    });
    return primeAndMap(ctx, hits).map(({ node, rank, snippet }) => ({ entry: node, rank, snippet }));
  },

  knowledgeTopics: (_, __, ctx) => topicCounts(ctx.db),

  knowledgeStats: (_, __, ctx) => knowledgeStats(ctx.db),
};

export const KnowledgeSearchConnection: KnowledgeSearchConnectionResolvers = {
  async totalCount(connection) {
    return Math.min(await connection.count(), connection.countCap);
  },
  async totalCountIsExact(connection) {
    return (await connection.count()) <= connection.countCap;
  },
};
