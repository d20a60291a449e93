/**
 * The benchmark's stack, a child process of `bench.ts` (pinned to core 0):
 * the whole graph of the chat tests (`startChatStack`: auth, knowledge,
 * storage-units, conversation on a fresh database; real PostgreSQL and Redis
 * when DATABASE_URL / REDIS_URL are set, embedded otherwise), rate limits
 * off, the conversation subgraph answering with the timed responder. Its own
 * in-process gateway only serves the subgraph's retrieval; the measured
 * gateway runs in `gateway.ts`.
 *
 * Asks: `stats` (hub listeners, replies generating and waiting at `tag`'s
 * gate, RSS after GC), `open` (`tag`'s gate), `stop`.
 */
import { startChatStack } from '../../e2e/chat-stack.ts';
import { AUDIENCE, ISSUER } from '../../e2e/harness.ts';
import { collectedRss, serveAsks, type StackReady, type StackStats } from './ipc.ts';
import { createTimedResponder } from './timed-responder.ts';

const tokens = Number(process.env['BENCH_TOKENS'] ?? 20);
const intervalMs = Number(process.env['BENCH_INTERVAL_MS'] ?? 100);
const responder = createTimedResponder({ tokens, intervalMs });

const stack = await startChatStack({
  conversation: {
    responders: { GROUNDED: responder },
    rateLimits: { disabled: true },
    // Lease renewals are one UPDATE per reply every leaseSeconds / 3: at the longest lease they stay out of the way.
    settings: { leaseSeconds: 600 },
    poolMax: 20,
  },
});

serveAsks(
  (ask) => {
    if (ask.kind === 'open') {
      responder.open(ask.tag ?? '');
      return {};
    }
    if (ask.kind === 'stats')
      return {
        listeners: stack.conversation.app.hub.listenerCount,
        generating: stack.conversation.app.engine.activeCount,
        waiting: responder.waiting(ask.tag ?? ''),
        rssBytes: collectedRss(),
      } satisfies StackStats;
    throw new Error(`unknown ask ${ask.kind}`);
  },
  () => stack.stop(),
);

process.send?.({
  kind: 'ready',
  subgraphUrls: {
    auth: stack.auth.url,
    knowledge: stack.knowledge.url,
    'storage-units': stack.storage.url,
    conversation: stack.conversation.url,
  },
  privateKeyPem: stack.services.keys.privateKeyPem,
  issuer: ISSUER,
  audience: AUDIENCE,
  embedded: { database: !process.env['DATABASE_URL'], redis: !process.env['REDIS_URL'] },
} satisfies StackReady);
