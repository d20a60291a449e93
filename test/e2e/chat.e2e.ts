import { ApolloClient, HttpLink, InMemoryCache, gql as apolloGql } from '@apollo/client';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startOpenAiStub, type OpenAiStub } from '@supergraph/testing';
import { startChatStack, type ChatStack } from './chat-stack.ts';

/*
 * The headline flow of issue 8 through the real gateway, once per protocol a
 * real client speaks: a graphql-ws client, a graphql-sse client and Apollo
 * Client's multipart reader each register, create a droid, send a message and
 * receive the grounded reply token by token, with `author` (auth) and
 * `citations` (knowledge) resolved on every event by the rest of the plan.
 */

const MESSAGE_FIELDS = 'id role status content failureReason author { id username } citations { id title }';
const REPLY_STREAM = `subscription Reply($messageId: ID!) {
  replyStream(messageId: $messageId) { kind sequence delta message { ${MESSAGE_FIELDS} } }
}`;

interface MessageShape {
  id: string;
  role: string;
  status: string;
  content: string;
  failureReason: string | null;
  author: { id: string; username: string };
  citations: Array<{ id: string; title: string }>;
}
interface ReplyEvent {
  kind: 'CREATED' | 'DELTA' | 'COMPLETE' | 'FAILED';
  sequence: number;
  delta: string | null;
  message: MessageShape;
}
interface ExecutionResultShape {
  data?: { replyStream?: ReplyEvent } | null;
  errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>;
}

let stack: ChatStack;
let photosynthesisId: string | undefined;
let openAi: OpenAiStub;

beforeAll(async () => {
  stack = await startChatStack();
  [photosynthesisId] = await stack.addKnowledge([
    {
      title: 'Photosynthesis',
      body: 'Photosynthesis converts light energy into chemical energy stored in glucose. Chlorophyll in the leaves absorbs the light.',
      topic: 'biology',
    },
    {
      title: 'Plate tectonics',
      body: 'The lithosphere is broken into plates that drift slowly over the mantle.',
      topic: 'geology',
    },
  ]);
  openAi = await startOpenAiStub({ apiKey: 'sk-test-user-key-0123456789' });
}, 120_000);

afterAll(async () => {
  await openAi?.close();
  await stack?.stop();
});

/** A graphql-ws client of the gateway, signed in with `accessToken` in `connection_init`. */
function wsClient(accessToken: string) {
  return createWsClient({
    url: stack.gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${accessToken}` },
    retryAttempts: 0,
  });
}

/** A graphql-sse client of the gateway (distinct connections), signed in with `accessToken`. */
function sseClient(accessToken: string) {
  return createSseClient({
    url: stack.gateway.url,
    singleConnection: false,
    headers: { authorization: `Bearer ${accessToken}` },
    retryAttempts: 0,
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test names the fields it reads
type Data = Record<string, any>;

async function asUser(token: string, query: string, variables?: Record<string, unknown>): Promise<Data> {
  const result = await stack.gql(query, variables, { authorization: `Bearer ${token}` });
  expect(result.body.errors, JSON.stringify(result.body.errors)).toBeUndefined();
  return result.body.data as Data;
}

/** Signs up, creates a droid (grounded by default) and a conversation, sends `content`; returns the reply's id. */
async function startChat(prefix: string, content: string, provider?: Record<string, unknown>) {
  const user = await stack.signUp(prefix);
  const { createDroid } = await asUser(
    user.accessToken,
    'mutation ($input: CreateDroidInput!) { createDroid(input: $input) { id } }',
    { input: { name: `${prefix} droid`, persona: 'A patient teacher.', ...(provider ? { provider } : {}) } },
  );
  const { startConversation } = await asUser(
    user.accessToken,
    'mutation ($droidId: ID!) { startConversation(droidId: $droidId) { id } }',
    { droidId: (createDroid as { id: string }).id },
  );
  const { sendMessage } = await asUser(
    user.accessToken,
    `mutation ($id: ID!, $content: String!) { sendMessage(conversationId: $id, content: $content) {
      message { ${MESSAGE_FIELDS} } reply { ${MESSAGE_FIELDS} } } }`,
    { id: (startConversation as { id: string }).id, content },
  );
  const sent = sendMessage as { message: MessageShape; reply: MessageShape };
  expect(sent.message).toMatchObject({ role: 'USER', status: 'COMPLETE', content });
  expect(sent.reply).toMatchObject({ role: 'ASSISTANT', status: 'STREAMING' });
  return { user, replyId: sent.reply.id };
}

/** The grounded reply's stream is complete and well formed: deltas 1..n, then COMPLETE, every event resolved. */
function expectGroundedStream(events: ReplyEvent[], user: { userId: string; username: string }) {
  expect(events.length).toBeGreaterThan(2);
  const final = events.at(-1)!;
  expect(final.kind).toBe('COMPLETE');
  expect(events.map((event) => event.sequence)).toEqual(events.map((_, index) => index + 1));
  const deltas = events.filter((event) => event.kind === 'DELTA');
  expect(deltas.length).toBe(events.length - 1);
  expect(deltas.map((event) => event.delta).join('')).toBe(final.message.content);
  expect(final.message.status).toBe('COMPLETE');
  expect(final.message.content).toContain('Photosynthesis');
  for (const event of events) {
    // Owned by auth and knowledge, resolved on every event through the rest of the plan.
    // toMatchObject: Apollo Client adds __typename to what it reads.
    expect(event.message.author).toMatchObject({ id: user.userId, username: user.username });
    expect(event.message.citations.map((citation) => citation.id)).toContain(photosynthesisId);
    expect(event.message.citations.find((citation) => citation.id === photosynthesisId)?.title).toBe('Photosynthesis');
  }
}

const QUESTION = 'How does photosynthesis turn light energy into chemical energy?';

describe('a grounded reply streams through the gateway', () => {
  it('over graphql-ws', async () => {
    const { user, replyId } = await startChat('ws', QUESTION);
    const client = wsClient(user.accessToken);
    try {
      const events: ReplyEvent[] = [];
      for await (const result of client.iterate({ query: REPLY_STREAM, variables: { messageId: replyId } })) {
        const typed = result as ExecutionResultShape;
        expect(typed.errors).toBeUndefined();
        events.push(typed.data!.replyStream!);
      }
      expectGroundedStream(events, user);
    } finally {
      await client.dispose();
    }
  });

  it('over server-sent events (graphql-sse, distinct connections)', async () => {
    const { user, replyId } = await startChat('sse', QUESTION);
    const client = sseClient(user.accessToken);
    try {
      const events: ReplyEvent[] = [];
      for await (const result of client.iterate({ query: REPLY_STREAM, variables: { messageId: replyId } })) {
        const typed = result as ExecutionResultShape;
        expect(typed.errors).toBeUndefined();
        events.push(typed.data!.replyStream!);
      }
      expectGroundedStream(events, user);
    } finally {
      client.dispose();
    }
  });

  it("over Apollo's multipart HTTP protocol, read by @apollo/client", async () => {
    const { user, replyId } = await startChat('multipart', QUESTION);
    const client = new ApolloClient({
      link: new HttpLink({ uri: stack.gateway.url, headers: { authorization: `Bearer ${user.accessToken}` } }),
      cache: new InMemoryCache(),
    });
    try {
      const events = await new Promise<ReplyEvent[]>((resolve, reject) => {
        const received: ReplyEvent[] = [];
        client
          .subscribe<{ replyStream: ReplyEvent }>({
            query: apolloGql(REPLY_STREAM),
            variables: { messageId: replyId },
            fetchPolicy: 'no-cache',
          })
          .subscribe({
            next: (result) => {
              if (result.error) reject(result.error);
              else if (result.data) received.push(result.data.replyStream);
            },
            error: reject,
            complete: () => resolve(received),
          });
      });
      expectGroundedStream(events, user);
    } finally {
      client.stop();
    }
  });
});

describe('subscriptions refuse what a query would refuse', () => {
  it("another user's reply stream answers NOT_FOUND over every protocol, and nothing streams", async () => {
    const { replyId } = await startChat('owner', QUESTION);
    const stranger = await stack.signUp('stranger');
    const ws = wsClient(stranger.accessToken);
    const sse = sseClient(stranger.accessToken);
    try {
      for (const client of [ws, sse]) {
        const results: ExecutionResultShape[] = [];
        try {
          for await (const result of client.iterate({ query: REPLY_STREAM, variables: { messageId: replyId } }))
            results.push(result as ExecutionResultShape);
        } catch (error) {
          results.push({ errors: Array.isArray(error) ? error : [error as { message: string }] });
        }
        expect(results.some((result) => result.data?.replyStream)).toBe(false);
        expect(results.flatMap((result) => result.errors ?? []).map((error) => error.extensions?.['code'])).toContain(
          'NOT_FOUND',
        );
      }
    } finally {
      await ws.dispose();
      sse.dispose();
    }
  });

  it('an anonymous or forged credential is refused before any subgraph is called', async () => {
    const { replyId } = await startChat('victim', QUESTION);
    const before = stack.gateway.subscriptions.openStreams();
    const anonymous = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: REPLY_STREAM, variables: { messageId: replyId } }),
    });
    const anonymousBody = (await anonymous.json()) as ExecutionResultShape;
    expect(anonymousBody.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const forged = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'multipart/mixed;subscriptionSpec="1.0"',
        authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      },
      body: JSON.stringify({ query: REPLY_STREAM, variables: { messageId: replyId } }),
    });
    expect(forged.status).toBe(401);
    await forged.body?.cancel();
    expect(stack.gateway.subscriptions.openStreams()).toBe(before);
  });
});

describe('revocation reaches open streams', () => {
  it('logoutEverywhere ends an open conversationEvents stream with UNAUTHENTICATED within seconds', async () => {
    const user = await stack.signUp('revoked');
    const { createDroid } = await asUser(
      user.accessToken,
      'mutation ($input: CreateDroidInput!) { createDroid(input: $input) { id } }',
      { input: { name: 'r' } },
    );
    const { startConversation } = await asUser(
      user.accessToken,
      'mutation ($droidId: ID!) { startConversation(droidId: $droidId) { id } }',
      { droidId: createDroid.id },
    );
    const client = wsClient(user.accessToken);
    try {
      const results: ExecutionResultShape[] = [];
      const followed = (async () => {
        for await (const result of client.iterate({
          query: 'subscription ($id: ID!) { conversationEvents(conversationId: $id) { kind } }',
          variables: { id: startConversation.id },
        }))
          results.push(result as ExecutionResultShape);
      })();
      await waitFor(() => stack.gateway.subscriptions.openStreams() > 0);
      const before = stack.gateway.subscriptions.openStreams();
      await asUser(user.accessToken, 'mutation { logoutEverywhere }');
      // Within seconds (the core checks every second); a generous bound so a survivor fails fast.
      await Promise.race([
        followed,
        new Promise((_, reject) => setTimeout(() => reject(new Error('the stream outlived the revocation')), 15_000)),
      ]);
      expect(results.at(-1)?.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
      expect(stack.gateway.subscriptions.openStreams()).toBe(before - 1);
    } finally {
      await client.dispose();
    }
  });
});

describe('an OpenAI-compatible droid', () => {
  it("streams from the provider with the user's own key, stored encrypted in auth", async () => {
    const user = await stack.signUp('openai');
    await asUser(
      user.accessToken,
      'mutation ($key: String!) { setProviderKey(provider: "openai", key: $key) { provider last4 } }',
      { key: 'sk-test-user-key-0123456789' },
    );
    const { createDroid } = await asUser(
      user.accessToken,
      'mutation ($input: CreateDroidInput!) { createDroid(input: $input) { id } }',
      {
        input: {
          name: 'echo',
          provider: { kind: 'OPENAI_COMPATIBLE', baseUrl: openAi.url, model: 'stub-echo' },
        },
      },
    );
    const { startConversation } = await asUser(
      user.accessToken,
      'mutation ($droidId: ID!) { startConversation(droidId: $droidId) { id } }',
      { droidId: (createDroid as { id: string }).id },
    );
    const client = wsClient(user.accessToken);
    try {
      const conversationId = (startConversation as { id: string }).id;
      const events: ReplyEvent[] = [];
      const followed = (async () => {
        for await (const result of client.iterate({
          query: `subscription ($id: ID!) { conversationEvents(conversationId: $id) {
            kind sequence delta message { id role status content } } }`,
          variables: { id: conversationId },
        })) {
          const event = (result as { data?: { conversationEvents?: ReplyEvent } }).data?.conversationEvents;
          if (!event) throw new Error(JSON.stringify(result));
          events.push(event);
          if (event.kind === 'COMPLETE' || event.kind === 'FAILED') return;
        }
      })();
      // Subscribed before sending: wait until the subscription is open upstream.
      await waitFor(() => stack.gateway.subscriptions.openStreams() > 0);
      await asUser(
        user.accessToken,
        'mutation ($id: ID!, $content: String!) { sendMessage(conversationId: $id, content: $content) { reply { id } } }',
        { id: conversationId, content: 'echo these exact words' },
      );
      await followed;
      const final = events.at(-1)!;
      expect(final).toMatchObject({ kind: 'COMPLETE', message: { role: 'ASSISTANT', status: 'COMPLETE' } });
      expect(final.message.content).toBe('echo these exact words');
      const deltas = events.filter((event) => event.kind === 'DELTA');
      expect(deltas.map((event) => event.delta).join('')).toBe('echo these exact words');
      expect(deltas.length).toBeGreaterThan(1);
      const request = openAi.requests.at(-1)!;
      expect(request.headers['authorization']).toBe('Bearer sk-test-user-key-0123456789');
    } finally {
      await client.dispose();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
