import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminIdentity } from '@supergraph/testing';
import { ResponderError, type Responder } from './responders/responder.ts';
import { eventually, startHarness, userIdentity, type ConversationHarness } from './testing/harness.ts';

const CREATE_DROID = `mutation ($input: CreateDroidInput!) {
  createDroid(input: $input) { id name persona knowledgeScope { knowledgeBase storageUnits } provider { kind baseUrl model } owner { id } }
}`;
const START =
  'mutation ($droidId: ID!, $title: String) { startConversation(droidId: $droidId, title: $title) { id title droid { id } } }';
const SEND = `mutation ($id: ID!, $content: String!) {
  sendMessage(conversationId: $id, content: $content) {
    message { id role status content author { id } }
    reply { id role status content droid { id } }
  }
}`;
const MESSAGE =
  'query ($id: ID!) { message(id: $id) { id status content failureReason citations { id } recordCitations completedAt } }';

interface DroidData {
  createDroid: { id: string };
}
interface SendData {
  sendMessage: {
    message: { id: string; role: string; status: string; content: string };
    reply: { id: string; role: string; status: string; content: string };
  };
}
interface MessageData {
  message: { id: string; status: string; content: string; failureReason: string | null } | null;
}

let harness: ConversationHarness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness?.close();
});

function code(result: { errors?: Array<{ extensions?: Record<string, unknown> }> }): string {
  return String(result.errors?.[0]?.extensions?.['code'] ?? 'OK');
}

async function createDroid(user = userIdentity(), input: Record<string, unknown> = { name: 'Ada' }) {
  const result = await harness.call<DroidData>(CREATE_DROID, { input }, user);
  expect(result.errors).toBeUndefined();
  return result.data!.createDroid.id;
}

async function startConversation(user: ReturnType<typeof userIdentity>, droidId?: string) {
  const result = await harness.call<{ startConversation: { id: string } }>(
    START,
    { droidId: droidId ?? (await createDroid(user)) },
    user,
  );
  expect(result.errors).toBeUndefined();
  return result.data!.startConversation.id;
}

async function finished(harnessOf: ConversationHarness, id: string, user: ReturnType<typeof userIdentity>) {
  return eventually(async () => {
    const result = await harnessOf.call<MessageData>(MESSAGE, { id }, user);
    const message = result.data?.message;
    return message && message.status !== 'STREAMING' ? message : undefined;
  });
}

describe('droids', () => {
  it('creates, lists newest first, pages, updates and deletes your own', async () => {
    const user = userIdentity();
    const created = await harness.call<{ createDroid: Record<string, unknown> }>(
      CREATE_DROID,
      { input: { name: 'Physicist', persona: 'Terse.', knowledgeScope: { storageUnits: ['physics', 'quantum'] } } },
      user,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data?.createDroid).toMatchObject({
      name: 'Physicist',
      persona: 'Terse.',
      knowledgeScope: { knowledgeBase: true, storageUnits: ['physics', 'quantum'] },
      provider: { kind: 'GROUNDED', baseUrl: null, model: null },
      owner: { id: user.userId },
    });
    const second = await createDroid(user, { name: 'Second' });
    const page = await harness.call<{
      droids: { edges: Array<{ node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string } };
    }>('{ droids(first: 1) { edges { node { id } } pageInfo { hasNextPage endCursor } } }', {}, user);
    expect(page.data?.droids.edges.map((edge) => edge.node.id)).toEqual([second]);
    expect(page.data?.droids.pageInfo.hasNextPage).toBe(true);
    const next = await harness.call<{ droids: { edges: Array<{ node: { id: string } }> } }>(
      'query ($after: String) { droids(first: 5, after: $after) { edges { node { id name } } } }',
      { after: page.data?.droids.pageInfo.endCursor },
      user,
    );
    expect(next.data?.droids.edges.map((edge) => edge.node.id)).toEqual([
      (created.data?.createDroid as { id: string }).id,
    ]);

    const updated = await harness.call<{ updateDroid: Record<string, unknown> }>(
      'mutation ($id: ID!, $input: UpdateDroidInput!) { updateDroid(id: $id, input: $input) { name provider { kind baseUrl model } } }',
      {
        id: second,
        input: {
          name: 'Renamed',
          provider: { kind: 'OPENAI_COMPATIBLE', baseUrl: 'http://127.0.0.1:11434/v1/', model: 'llama3' },
        },
      },
      user,
    );
    expect(updated.data?.updateDroid).toEqual({
      name: 'Renamed',
      provider: { kind: 'OPENAI_COMPATIBLE', baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3' },
    });
    const deleted = await harness.call('mutation ($id: ID!) { deleteDroid(id: $id) }', { id: second }, user);
    expect(deleted.data).toEqual({ deleteDroid: second });
    expect((await harness.call('query ($id: ID!) { droid(id: $id) { id } }', { id: second }, user)).data).toEqual({
      droid: null,
    });
  });

  it.each([
    [{ name: '   ' }, 'input.name'],
    [{ name: 'x'.repeat(101) }, 'input.name'],
    [{ name: 'ok', persona: 'p'.repeat(4001) }, 'input.persona'],
    [{ name: 'ok', knowledgeScope: { storageUnits: ['physics', 'astrology'] } }, 'input.knowledgeScope.storageUnits'],
    [
      { name: 'ok', provider: { kind: 'OPENAI_COMPATIBLE', model: 'm', baseUrl: 'ftp://example.com' } },
      'input.provider.baseUrl',
    ],
    [
      { name: 'ok', provider: { kind: 'OPENAI_COMPATIBLE', model: 'm', baseUrl: 'not a url' } },
      'input.provider.baseUrl',
    ],
    [
      { name: 'ok', provider: { kind: 'OPENAI_COMPATIBLE', baseUrl: 'https://api.openai.com/v1' } },
      'input.provider.model',
    ],
    [{ name: 'ok', provider: { kind: 'GROUNDED', model: 'gpt' } }, 'input.provider'],
  ])('refuses bad droid input %j with BAD_USER_INPUT', async (input, field) => {
    const result = await harness.call(CREATE_DROID, { input }, userIdentity());
    expect(code(result)).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.extensions?.['field']).toBe(field);
  });

  it('answers UNAUTHENTICATED without a user and FORBIDDEN to the admin-only cache stats', async () => {
    const anonymous = await harness.call('{ droids { edges { cursor } } }', {}, { ...userIdentity(), userId: null });
    expect(code(anonymous)).toBe('UNAUTHENTICATED');
    expect(code(await harness.call('{ responseCacheStats { hits } }', {}, userIdentity()))).toBe('FORBIDDEN');
    const forged = await harness.client.call('{ droids { edges { cursor } } }', {}, null, {
      token: 'forged.token.value',
    });
    expect(forged.status).toBe(401);
    expect(code(await harness.call('query ($id: ID!) { droid(id: $id) { id } }', { id: 'not-a-uuid' }))).toBe(
      'BAD_USER_INPUT',
    );
    expect(code(await harness.call('{ droids(after: "garbage") { edges { cursor } } }'))).toBe('BAD_USER_INPUT');
    expect(code(await harness.call('{ droids(first: 101) { edges { cursor } } }'))).toBe('BAD_USER_INPUT');
  });
});

describe('ownership', () => {
  it("never shows or changes another user's droids, conversations or messages, through fields or _entities", async () => {
    const owner = userIdentity();
    const intruder = userIdentity();
    const droidId = await createDroid(owner);
    const conversationId = await startConversation(owner, droidId);
    const sent = await harness.call<SendData>(SEND, { id: conversationId, content: 'Hello there' }, owner);
    const messageId = sent.data!.sendMessage.message.id;
    await finished(harness, sent.data!.sendMessage.reply.id, owner);

    const reads = await harness.call(
      `query ($d: ID!, $c: ID!, $m: ID!) { droid(id: $d) { id } conversation(id: $c) { id } message(id: $m) { id }
         conversations { edges { node { id } } } droids { edges { node { id } } } }`,
      { d: droidId, c: conversationId, m: messageId },
      intruder,
    );
    expect(reads.data).toEqual({
      droid: null,
      conversation: null,
      message: null,
      conversations: { edges: [] },
      droids: { edges: [] },
    });
    const writes = await Promise.all([
      harness.call(
        'mutation ($id: ID!) { updateDroid(id: $id, input: { name: "Mine" }) { id } }',
        { id: droidId },
        intruder,
      ),
      harness.call('mutation ($id: ID!) { deleteDroid(id: $id) }', { id: droidId }, intruder),
      harness.call(START, { droidId }, intruder),
      harness.call('mutation ($id: ID!) { deleteConversation(id: $id) }', { id: conversationId }, intruder),
      harness.call(SEND, { id: conversationId, content: 'let me in' }, intruder),
    ]);
    expect(writes.map(code)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);

    const ENTITIES = `query ($representations: [_Any!]!) { _entities(representations: $representations) {
      ... on Droid { id name } ... on Conversation { id title } ... on Message { id content }
      ... on User { id conversations { edges { node { id } } } } } }`;
    const representations = [
      { __typename: 'Droid', id: droidId },
      { __typename: 'Conversation', id: conversationId },
      { __typename: 'Message', id: messageId },
      { __typename: 'User', id: owner.userId },
    ];
    const stolen = await harness.call<{ _entities: unknown[] }>(ENTITIES, { representations }, intruder);
    expect(stolen.errors).toBeUndefined();
    expect(stolen.data?._entities).toEqual([null, null, null, { id: owner.userId, conversations: { edges: [] } }]);
    const own = await harness.call<{ _entities: Array<Record<string, unknown> | null> }>(
      ENTITIES,
      { representations },
      owner,
    );
    expect(own.data?._entities.map((entity) => entity?.['id'])).toEqual([
      droidId,
      conversationId,
      messageId,
      owner.userId,
    ]);
    expect(own.data?._entities[3]).toEqual({
      id: owner.userId,
      conversations: { edges: [{ node: { id: conversationId } }] },
    });

    // Nothing changed for the owner.
    const after = await harness.call<{ conversation: { messages: { edges: unknown[] } } }>(
      'query ($id: ID!) { conversation(id: $id) { messages { edges { node { id } } } } }',
      { id: conversationId },
      owner,
    );
    expect(after.data?.conversation.messages.edges).toHaveLength(2);
  });
});

describe('conversations and messages', () => {
  it('sendMessage returns your message and the STREAMING reply at once; the reply completes (retrieval down: nothing found)', async () => {
    const user = userIdentity();
    const conversationId = await startConversation(user);
    const sent = await harness.call<SendData>(SEND, { id: conversationId, content: '  What is a photon?  ' }, user);
    expect(sent.errors).toBeUndefined();
    expect(sent.data?.sendMessage.message).toMatchObject({
      role: 'USER',
      status: 'COMPLETE',
      content: '  What is a photon?  ',
    });
    expect(sent.data?.sendMessage.reply).toMatchObject({ role: 'ASSISTANT', status: 'STREAMING', content: '' });
    const reply = await finished(harness, sent.data!.sendMessage.reply.id, user);
    expect(reply).toMatchObject({ status: 'COMPLETE', failureReason: null, citations: [], recordCitations: [] });
    expect(reply.content.length).toBeGreaterThan(0);

    const listed = await harness.call<{
      conversations: { edges: Array<{ node: { id: string; messages: { edges: Array<{ node: { role: string } }> } } }> };
    }>('{ conversations { edges { node { id messages { edges { node { role } } } } } } }', {}, user);
    expect(listed.data?.conversations.edges[0]?.node.id).toBe(conversationId);
    expect(listed.data?.conversations.edges[0]?.node.messages.edges.map((edge) => edge.node.role)).toEqual([
      'USER',
      'ASSISTANT',
    ]);
  });

  it('refuses empty, blank and too long content with BAD_USER_INPUT and stores nothing', async () => {
    const user = userIdentity();
    const conversationId = await startConversation(user);
    for (const content of ['', '   \n\t', 'x'.repeat(4001)]) {
      const result = await harness.call(SEND, { id: conversationId, content }, user);
      expect(code(result)).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.extensions?.['field']).toBe('content');
    }
    expect(code(await harness.call(SEND, { id: conversationId, content: 'x'.repeat(4000) }, user))).toBe('OK');
    expect(code(await harness.call(SEND, { id: 'f4a6bdb8-6a55-4b8f-a1b0-3f3f1f3f3f3f', content: 'hi' }, user))).toBe(
      'NOT_FOUND',
    );
  });

  it('pages messages back in time with `before`, newest last', async () => {
    const user = userIdentity();
    const conversationId = await startConversation(user);
    for (const content of ['one', 'two']) {
      const sent = await harness.call<SendData>(SEND, { id: conversationId, content }, user);
      await finished(harness, sent.data!.sendMessage.reply.id, user);
    }
    const QUERY = `query ($id: ID!, $before: String) { conversation(id: $id) { messages(first: 2, before: $before) {
      edges { cursor node { role content } } pageInfo { hasPreviousPage hasNextPage startCursor } } } }`;
    interface Page {
      conversation: {
        messages: {
          edges: Array<{ node: { role: string; content: string } }>;
          pageInfo: { hasPreviousPage: boolean; hasNextPage: boolean; startCursor: string };
        };
      };
    }
    const last = await harness.call<Page>(QUERY, { id: conversationId }, user);
    expect(last.data?.conversation.messages.edges.map((edge) => edge.node.role)).toEqual(['USER', 'ASSISTANT']);
    expect(last.data?.conversation.messages.edges[0]?.node.content).toBe('two');
    expect(last.data?.conversation.messages.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const earlier = await harness.call<Page>(
      QUERY,
      { id: conversationId, before: last.data?.conversation.messages.pageInfo.startCursor },
      user,
    );
    expect(earlier.data?.conversation.messages.edges[0]?.node.content).toBe('one');
    expect(earlier.data?.conversation.messages.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
  });

  it('deleteConversation removes it with its messages; deleteDroid removes its conversations', async () => {
    const user = userIdentity();
    const droidId = await createDroid(user);
    const first = await startConversation(user, droidId);
    const second = await startConversation(user, droidId);
    const sent = await harness.call<SendData>(SEND, { id: first, content: 'bye' }, user);
    await finished(harness, sent.data!.sendMessage.reply.id, user);
    expect(
      (await harness.call('mutation ($id: ID!) { deleteConversation(id: $id) }', { id: first }, user)).data,
    ).toEqual({
      deleteConversation: first,
    });
    expect(
      (await harness.call<MessageData>(MESSAGE, { id: sent.data!.sendMessage.message.id }, user)).data?.message,
    ).toBeNull();
    await harness.call('mutation ($id: ID!) { deleteDroid(id: $id) }', { id: droidId }, user);
    expect(
      (await harness.call('query ($id: ID!) { conversation(id: $id) { id } }', { id: second }, user)).data,
    ).toEqual({
      conversation: null,
    });
  });

  it('answers RATE_LIMITED to the 6th sendMessage of an hour on the free tier', async () => {
    const user = userIdentity();
    const conversationId = await startConversation(user);
    const results = [];
    for (let i = 0; i < 6; i++)
      results.push(code(await harness.call(SEND, { id: conversationId, content: `q${i}` }, user)));
    expect(results).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'RATE_LIMITED']);
    // Another user is unaffected.
    expect(code(await harness.call(SEND, { id: await startConversation(userIdentity()), content: 'hi' }))).toBe(
      'NOT_FOUND',
    );
  });

  it('streams a cached reply for the same droid, prompt and passages without calling the responder', async () => {
    const user = userIdentity();
    const droidId = await createDroid(user, { name: 'Cache' });
    const before = harness.app.responseCache.stats();
    const replies: string[] = [];
    for (let i = 0; i < 2; i++) {
      const conversationId = await startConversation(user, droidId);
      const sent = await harness.call<SendData>(SEND, { id: conversationId, content: 'Same question?' }, user);
      replies.push((await finished(harness, sent.data!.sendMessage.reply.id, user)).content);
    }
    expect(replies[1]).toBe(replies[0]);
    const stats = await harness.call<{
      responseCacheStats: { hits: number; misses: number; size: number; maxEntries: number };
    }>('{ responseCacheStats { hits misses size maxEntries } }', {}, adminIdentity());
    expect(stats.data?.responseCacheStats.hits).toBe(before.hits + 1);
    expect(stats.data?.responseCacheStats.misses).toBe(before.misses + 1);
    expect(stats.data?.responseCacheStats.maxEntries).toBe(1000);
  });
});

describe('failures', () => {
  it('stores the reply FAILED with the responder’s reason, and keeps the user’s message', async () => {
    const failing: Responder = {
      kind: 'GROUNDED',
      // eslint-disable-next-line require-yield
      async *respond() {
        throw new ResponderError('the provider refused the request');
      },
    };
    const broken = await startHarness({ responders: { GROUNDED: failing } });
    try {
      const user = userIdentity();
      const droid = await broken.call<DroidData>(CREATE_DROID, { input: { name: 'Broken' } }, user);
      const started = await broken.call<{ startConversation: { id: string } }>(
        START,
        { droidId: droid.data!.createDroid.id },
        user,
      );
      const sent = await broken.call<SendData>(
        SEND,
        { id: started.data!.startConversation.id, content: 'Fail please' },
        user,
      );
      const reply = await finished(broken, sent.data!.sendMessage.reply.id, user);
      expect(reply).toMatchObject({ status: 'FAILED', failureReason: 'the provider refused the request' });
      const message = await broken.call<MessageData>(MESSAGE, { id: sent.data!.sendMessage.message.id }, user);
      expect(message.data?.message).toMatchObject({ status: 'COMPLETE', content: 'Fail please' });
    } finally {
      await broken.close();
    }
  });
});
