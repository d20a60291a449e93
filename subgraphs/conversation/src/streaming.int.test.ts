import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionResult } from 'graphql';
import { sql } from 'kysely';
import type { Identity } from '@supergraph/platform';
import type { Responder } from './responders/responder.ts';
import { eventually, startHarness, userIdentity, type ConversationHarness } from './testing/harness.ts';

const TOKENS = Array.from({ length: 30 }, (_, index) => `t${index + 1} `);
/** The gated responder stops after this many tokens until the test opens the gate. */
const BEFORE_GATE = 12;

let openGate: () => void = () => {};
let gate: Promise<void> = Promise.resolve();
function closeGate() {
  gate = new Promise((resolve) => (openGate = resolve));
}

/** A responder the test holds mid-reply (so a subscriber can join late); the real ones are tested on their own. */
const gated: Responder = {
  kind: 'GROUNDED',
  async *respond({ signal }) {
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    for (const [index, token] of TOKENS.entries()) {
      if (index === BEFORE_GATE) await Promise.race([gate, aborted]);
      yield token;
    }
  },
};

const EVENT_FIELDS = 'kind sequence delta message { id status content failureReason }';
const REPLY_STREAM = `subscription ($id: ID!) { replyStream(messageId: $id) { ${EVENT_FIELDS} } }`;
const CONVERSATION_EVENTS = `subscription ($id: ID!) { conversationEvents(conversationId: $id) { ${EVENT_FIELDS} } }`;

interface Event {
  kind: string;
  sequence: number;
  delta: string | null;
  message: { id: string; status: string; content: string; failureReason: string | null };
}

let harness: ConversationHarness;

beforeAll(async () => {
  harness = await startHarness({ responders: { GROUNDED: gated }, settings: { sweepIntervalMs: 60_000 } });
});

afterAll(async () => {
  openGate();
  await harness?.close();
});

async function setUp(user: Identity): Promise<string> {
  const droid = await harness.call<{ createDroid: { id: string } }>(
    'mutation { createDroid(input: { name: "Streamer" }) { id } }',
    {},
    user,
  );
  const started = await harness.call<{ startConversation: { id: string } }>(
    'mutation ($id: ID!) { startConversation(droidId: $id) { id } }',
    { id: droid.data!.createDroid.id },
    user,
  );
  return started.data!.startConversation.id;
}

async function send(user: Identity, conversationId: string, content = 'Tell me') {
  const sent = await harness.call<{ sendMessage: { message: { id: string }; reply: { id: string } } }>(
    'mutation ($id: ID!, $content: String!) { sendMessage(conversationId: $id, content: $content) { message { id } reply { id } } }',
    { id: conversationId, content },
    user,
  );
  expect(sent.errors).toBeUndefined();
  return sent.data!.sendMessage;
}

async function open(query: string, variables: Record<string, unknown>, user: Identity) {
  const result = await harness.subscribe(query, variables, user);
  if (!(Symbol.asyncIterator in result)) throw new Error(`subscribe failed: ${JSON.stringify(result.errors)}`);
  return result;
}

async function take(iterator: AsyncIterableIterator<ExecutionResult>, field: string, until: (event: Event) => boolean) {
  const events: Event[] = [];
  for (;;) {
    const next = await iterator.next();
    if (next.done) return events;
    expect(next.value.errors).toBeUndefined();
    const event = (next.value.data as Record<string, Event>)[field] as Event;
    events.push(event);
    if (until(event)) return events;
  }
}

function storedDeltas(messageId: string): Promise<number> {
  return harness.services.redis.llen(`${harness.streamPrefix}reply:${messageId}`);
}

function expectWholeReply(events: Event[], messageId: string) {
  const deltas = events.filter((event) => event.kind === 'DELTA' && event.message.id === messageId);
  expect(deltas.map((event) => event.sequence)).toEqual(TOKENS.map((_, index) => index + 1));
  let content = '';
  for (const [index, event] of deltas.entries()) {
    content += TOKENS[index];
    expect(event.delta).toBe(TOKENS[index]);
    expect(event.message).toMatchObject({ status: 'STREAMING', content });
  }
  const final = events.filter((event) => event.kind === 'COMPLETE' && event.message.id === messageId);
  expect(final).toHaveLength(1);
  expect(final[0]).toMatchObject({
    sequence: TOKENS.length + 1,
    delta: null,
    message: { status: 'COMPLETE', content },
  });
}

describe('replyStream', () => {
  it('replays what a late joiner missed, then follows live: every delta once, in order, then COMPLETE, then the end', async () => {
    closeGate();
    const user = userIdentity();
    const { reply } = await send(user, await setUp(user));
    await eventually(async () => ((await storedDeltas(reply.id)) >= BEFORE_GATE ? true : undefined));
    const stream = await open(REPLY_STREAM, { id: reply.id }, user);
    const first = await stream.next();
    expect((first.value as ExecutionResult).data).toMatchObject({ replyStream: { kind: 'DELTA', sequence: 1 } });
    openGate();
    const rest = await take(stream, 'replyStream', () => false);
    expectWholeReply([(first.value as ExecutionResult).data!['replyStream'] as Event, ...rest], reply.id);
    await eventually(async () => (harness.app.hub.listenerCount === 0 ? true : undefined));
  });

  it('replays a finished reply from its stored stream, the same DELTAs a live subscriber saw, then COMPLETE', async () => {
    openGate();
    const user = userIdentity();
    const { reply } = await send(user, await setUp(user));
    await harness.app.engine.idle();
    const events = await take(await open(REPLY_STREAM, { id: reply.id }, user), 'replyStream', () => false);
    expect(events.map((event) => [event.kind, event.sequence, event.delta])).toEqual([
      ...TOKENS.map((token, index) => ['DELTA', index + 1, token]),
      ['COMPLETE', TOKENS.length + 1, null],
    ]);
    expect(events.at(-1)?.message).toEqual({
      id: reply.id,
      status: 'COMPLETE',
      content: TOKENS.join(''),
      failureReason: null,
    });
  });

  it('answers a finished reply whose stored stream expired with its final event at once and ends', async () => {
    openGate();
    const user = userIdentity();
    const { reply } = await send(user, await setUp(user));
    await harness.app.engine.idle();
    await harness.app.redis.del(harness.app.streams.list(reply.id));
    const events = await take(await open(REPLY_STREAM, { id: reply.id }, user), 'replyStream', () => false);
    expect(events).toEqual([
      {
        kind: 'COMPLETE',
        sequence: TOKENS.length + 1,
        delta: null,
        message: { id: reply.id, status: 'COMPLETE', content: TOKENS.join(''), failureReason: null },
      },
    ]);
  });

  it("refuses another user's message (and a missing one) with NOT_FOUND", async () => {
    openGate();
    const owner = userIdentity();
    const { reply } = await send(owner, await setUp(owner));
    for (const [id, user] of [
      [reply.id, userIdentity()],
      ['0b8a0d3e-6a55-4b8f-a1b0-3f3f1f3f3f3f', owner],
    ] as const) {
      const result = await harness.subscribe(REPLY_STREAM, { id }, user);
      expect(Symbol.asyncIterator in result).toBe(false);
      expect((result as ExecutionResult).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    }
    const other = await harness.subscribe(CONVERSATION_EVENTS, { id: reply.id }, owner);
    expect((other as ExecutionResult).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    await harness.app.engine.idle();
  });
});

describe('conversationEvents', () => {
  it('emits CREATED for both new messages, then the reply streaming, and never ends by itself', async () => {
    openGate();
    const user = userIdentity();
    const conversationId = await setUp(user);
    const stream = await open(CONVERSATION_EVENTS, { id: conversationId }, user);
    const { message, reply } = await send(user, conversationId, 'Hi!');
    const events = await take(stream, 'conversationEvents', (event) => event.kind === 'COMPLETE');
    expect(events.slice(0, 2)).toEqual([
      {
        kind: 'CREATED',
        sequence: 0,
        delta: null,
        message: { id: message.id, status: 'COMPLETE', content: 'Hi!', failureReason: null },
      },
      {
        kind: 'CREATED',
        sequence: 0,
        delta: null,
        message: { id: reply.id, status: 'STREAMING', content: '', failureReason: null },
      },
    ]);
    expectWholeReply(events, reply.id);
    // Still open: the next exchange arrives on the same subscription.
    const second = await send(user, conversationId, 'Again');
    const more = await take(stream, 'conversationEvents', (event) => event.kind === 'COMPLETE');
    expect(more[0]).toMatchObject({ kind: 'CREATED', message: { id: second.message.id } });
    expectWholeReply(more, second.reply.id);
    await stream.return?.();
  });

  it('replays a reply that is streaming when it joins', async () => {
    closeGate();
    const user = userIdentity();
    const conversationId = await setUp(user);
    const { reply } = await send(user, conversationId);
    await eventually(async () => ((await storedDeltas(reply.id)) >= BEFORE_GATE ? true : undefined));
    const stream = await open(CONVERSATION_EVENTS, { id: conversationId }, user);
    const replayed = await take(stream, 'conversationEvents', (event) => event.sequence === BEFORE_GATE);
    openGate();
    const live = await take(stream, 'conversationEvents', (event) => event.kind === 'COMPLETE');
    expectWholeReply([...replayed, ...live], reply.id);
    await stream.return?.();
  });
});

describe('listeners', () => {
  it('removes every Redis listener when subscribers go away (iterator return)', async () => {
    openGate();
    const user = userIdentity();
    const conversationId = await setUp(user);
    await harness.app.engine.idle();
    const baseline = harness.app.hub.listenerCount;
    closeGate();
    const { reply } = await send(user, conversationId);
    const streams = await Promise.all([
      open(REPLY_STREAM, { id: reply.id }, user),
      open(REPLY_STREAM, { id: reply.id }, user),
      open(CONVERSATION_EVENTS, { id: conversationId }, user),
      open(CONVERSATION_EVENTS, { id: conversationId }, user),
    ]);
    expect(harness.app.hub.listenerCount).toBe(baseline + 4);
    expect(harness.app.hub.channelCount).toBeGreaterThanOrEqual(2);
    for (const stream of streams) await stream.return?.();
    expect(harness.app.hub.listenerCount).toBe(baseline);
    openGate();
    await harness.app.engine.idle();
  });
});

describe('lease sweeper', () => {
  /** A reply left STREAMING by a generator that died: its lease ran out a minute ago. */
  async function staleReply(user: Identity) {
    const conversationId = await setUp(user);
    const ownerId = user.userId!.toLowerCase();
    const droid = await harness.app.db
      .selectFrom('conversations')
      .select('droid_id')
      .where('id', '=', conversationId)
      .executeTakeFirstOrThrow();
    return harness.app.db
      .insertInto('messages')
      .values({
        conversation_id: conversationId,
        owner_id: ownerId,
        droid_id: droid.droid_id,
        role: 'ASSISTANT',
        status: 'STREAMING',
        content: 'half a thou',
        delta_count: 3,
        failure_reason: null,
        lease_expires_at: sql<Date>`now() - interval '1 minute'`,
        completed_at: null,
      })
      .returning(['id', 'conversation_id'])
      .executeTakeFirstOrThrow();
  }

  it('fails STREAMING replies whose lease expired and tells their subscribers', async () => {
    const user = userIdentity();
    const stale = await staleReply(user);
    const stream = await open(REPLY_STREAM, { id: stale.id }, user);
    expect(await harness.app.sweeper.tick()).toBeGreaterThanOrEqual(1);
    const events = await take(stream, 'replyStream', () => false);
    expect(events).toEqual([
      {
        kind: 'FAILED',
        sequence: 4,
        delta: null,
        message: { id: stale.id, status: 'FAILED', content: 'half a thou', failureReason: 'the reply was interrupted' },
      },
    ]);
    // A live reply's lease is renewed, so the sweeper leaves it alone.
    openGate();
  });

  it('sweeps at start-up: a new instance fails what a dead one left', async () => {
    const user = userIdentity();
    const stale = await staleReply(user);
    const { startConversationSubgraph } = await import('./server.ts');
    const second = await startConversationSubgraph(
      {
        target: harness.target,
        internalTokenKey: harness.services.keys.verifyKey,
        redis: harness.services.redis,
        streamPrefix: harness.streamPrefix,
        settings: { sweepIntervalMs: 60_000 },
      },
      0,
    );
    try {
      const row = await eventually(async () => {
        const found = await harness.app.db
          .selectFrom('messages')
          .selectAll()
          .where('id', '=', stale.id)
          .executeTakeFirst();
        return found?.status === 'FAILED' ? found : undefined;
      });
      expect(row).toMatchObject({ failure_reason: 'the reply was interrupted', lease_expires_at: null });
    } finally {
      await second.stop();
    }
  });

  it('interrupts replies in progress on shutdown: stored FAILED, never left STREAMING', async () => {
    closeGate();
    const extra = await startHarness({ responders: { GROUNDED: gated } });
    const user = userIdentity();
    const droid = await extra.call<{ createDroid: { id: string } }>(
      'mutation { createDroid(input: { name: "S" }) { id } }',
      {},
      user,
    );
    const started = await extra.call<{ startConversation: { id: string } }>(
      'mutation ($id: ID!) { startConversation(droidId: $id) { id } }',
      { id: droid.data!.createDroid.id },
      user,
    );
    const sent = await extra.call<{ sendMessage: { reply: { id: string } } }>(
      'mutation ($id: ID!) { sendMessage(conversationId: $id, content: "x") { reply { id } } }',
      { id: started.data!.startConversation.id },
      user,
    );
    const replyId = sent.data!.sendMessage.reply.id;
    await eventually(async () =>
      (await extra.services.redis.llen(`${extra.streamPrefix}reply:${replyId}`)) >= BEFORE_GATE ? true : undefined,
    );
    await extra.running.stop();
    openGate();
    // The pool is closed now: read through a fresh app on the same database.
    const reader = await startConversationReader(extra);
    try {
      const row = await reader.db
        .selectFrom('messages')
        .selectAll()
        .where('id', '=', replyId)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('FAILED');
      expect(row.failure_reason).toBe('the reply was interrupted');
    } finally {
      await reader.close();
      await extra.services.close();
    }
  });
});

async function startConversationReader(of: ConversationHarness) {
  const { createConversationApp } = await import('./server.ts');
  return createConversationApp({
    target: of.target,
    internalTokenKey: of.services.keys.verifyKey,
    redis: of.services.redis,
  });
}
