import { decodeOffsetCursor, offsetCursor, requireUuid, toConnection } from '@supergraph/kit';
import { badUserInput } from '@supergraph/platform';
import type { KnowledgeContext } from '../context.ts';
import { knowledgeStats, topicCounts } from '../entries.repository.ts';
import type { KnowledgeSearchConnectionResolvers, QueryResolvers } from '../generated/resolvers.ts';
import { questionTerms } from '../question.ts';
import { countMatches, type RankedHit } from '../search.repository.ts';
import { answerQuestion, searchHits } from '../search.service.ts';
import { LIMITS, validateFirst, validateQuery, validateTopic } from '../validation.ts';
import { toKnowledgeAnswer, toKnowledgeEntry, toSearchEdge } from './mappers.ts';

/** Later `KnowledgeEntry` references to these entries in the same request need no query. */
function primeEntries(ctx: KnowledgeContext, hits: readonly RankedHit[]): void {
  for (const hit of hits) ctx.loaders.entryById.prime(hit.entry.id, hit.entry);
}

export const Query: QueryResolvers = {
  async knowledgeEntry(_, args, ctx) {
    const row = await ctx.loaders.entryById.load(requireUuid(args.id, 'id'));
    return row ? toKnowledgeEntry(row) : null;
  },

  async searchKnowledge(_, args, ctx) {
    const query = validateQuery(args.query);
    const topic = validateTopic(args.topic);
    const first = validateFirst(args.first);
    const offset = decodeOffsetCursor(args.after);
    if (offset > LIMITS.searchOffsetMax) throw badUserInput('after points beyond the last reachable result', 'after');
    const hits = await searchHits(ctx.db, {
      query,
      topic,
      limit: first + 1,
      offset,
      candidateCap: ctx.search.candidateCap,
      fuzzyBelow: ctx.search.fuzzyBelow,
    });
    primeEntries(ctx, hits);
    const page = toConnection(hits, first, {
      cursorOf: (_hit, index) => offsetCursor(offset + index),
      toNode: (hit) => hit,
      hasPrevious: offset > 0,
    });
    let counting: Promise<number> | undefined;
    return {
      edges: page.edges.map((edge) => toSearchEdge(edge.node, edge.cursor)),
      pageInfo: page.pageInfo,
      count: () => (counting ??= countMatches(ctx.db, query, topic, ctx.search.countCap + 1)),
      countCap: ctx.search.countCap,
    };
  },

  async askKnowledge(_, args, ctx) {
    const question = validateQuery(args.question, 'question');
    const first = validateFirst(args.first);
    const hits = await answerQuestion(ctx.db, questionTerms(question), {
      limit: first,
      candidateCap: ctx.search.candidateCap,
    });
    primeEntries(ctx, hits);
    return hits.map(toKnowledgeAnswer);
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
