import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { deadUrl, forkServer, subgraphClient, type ForkedServer } from '@supergraph/testing';
import { eventually, startHarness, userIdentity, type ConversationHarness } from './testing/harness.ts';

const crossProcess = Boolean(process.env['REDIS_URL'] && process.env['DATABASE_URL']);

interface Event {
  kind: string;
  sequence: number;
  delta: string | null;
  message: { id: string; status: string; content: string };
}

/**
 * Instance A (a child process) generates the reply; instance B (this
 * process) has the subscriber. Only real Redis and PostgreSQL connect two
 * processes: the in-process stand-ins cannot, so without REDIS_URL and
 * DATABASE_URL this is skipped, saying why.
 */
describe.skipIf(!crossProcess)('fan-out across instances (needs REDIS_URL and DATABASE_URL)', () => {
  let harness: ConversationHarness;
  let child: { url: string; stop: () => Promise<void> };

  beforeAll(async () => {
    harness = await startHarness();
    if (harness.target.kind !== 'postgres') throw new Error('expected PostgreSQL');
    child = await forkSubgraph({
      databaseUrl: harness.target.url,
      redisUrl: process.env['REDIS_URL'] ?? '',
      publicKeyPem: harness.services.keys.publicKeyPem,
      streamPrefix: harness.streamPrefix,
      rateLimitPrefix: harness.services.rateLimitPrefix('conversation-child'),
      deadUrl: await deadUrl(),
    });
  }, 60_000);

  afterAll(async () => {
    await child?.stop();
    await harness?.close();
  });

  it('a subscriber on instance B receives every token, in order, of a reply generated on instance A', async () => {
    const user = userIdentity();
    const onA = subgraphClient({
      url: child.url,
      audience: 'conversation',
      signingKey: harness.services.keys.signingKey,
    });
    const droid = await onA.call<{ createDroid: { id: string } }>(
      'mutation { createDroid(input: { name: "A" }) { id } }',
      {},
      user,
    );
    const started = await onA.call<{ startConversation: { id: string } }>(
      'mutation ($id: ID!) { startConversation(droidId: $id) { id } }',
      { id: droid.data!.createDroid.id },
      user,
    );
    const conversationId = started.data!.startConversation.id;
    // Instance B over the wire, as the gateway connects: graphql-ws with an internal token in connection_init.
    const internalToken = await harness.client.token(user);
    const ws = createClient({
      url: harness.running.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { internalToken },
    });
    const stream = ws.iterate<{ conversationEvents: Event }>({
      query:
        'subscription ($id: ID!) { conversationEvents(conversationId: $id) { kind sequence delta message { id status content } } }',
      variables: { id: conversationId },
    });
    // The subscription is live once B listens on the conversation's channel.
    await eventually(async () => (harness.app.hub.listenerCount > 0 ? true : undefined));
    const sent = await onA.call<{ sendMessage: { reply: { id: string } } }>(
      'mutation ($id: ID!) { sendMessage(conversationId: $id, content: "What is entropy?") { reply { id } } }',
      { id: conversationId },
      user,
    );
    expect(sent.errors).toBeUndefined();
    const replyId = sent.data!.sendMessage.reply.id;
    const events: Event[] = [];
    for (;;) {
      const next = await stream.next();
      if (next.done) break;
      expect(next.value.errors).toBeUndefined();
      const event = next.value.data!.conversationEvents;
      events.push(event);
      if (event.kind === 'COMPLETE' && event.message.id === replyId) break;
    }
    await stream.return?.();
    await ws.dispose();
    const deltas = events.filter((event) => event.kind === 'DELTA');
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.map((event) => event.sequence)).toEqual(deltas.map((_, index) => index + 1));
    const final = events.at(-1)!;
    expect(final.sequence).toBe(deltas.length + 1);
    expect(final.message.status).toBe('COMPLETE');
    expect(deltas.map((event) => event.delta).join('')).toBe(final.message.content);
    expect(events.filter((event) => event.kind === 'CREATED')).toHaveLength(2);
    // B generated nothing itself.
    expect(harness.app.engine.activeCount).toBe(0);
  });
});

function forkSubgraph(config: Record<string, string>): Promise<ForkedServer> {
  return forkServer(fileURLToPath(new URL('./testing/child-subgraph.ts', import.meta.url)), config);
}
