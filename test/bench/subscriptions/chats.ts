import { LOGIN, REGISTER, newUser, postGraphQL } from '../../e2e/harness.ts';
import { benchPrompt } from './timed-responder.ts';

/** A signed-in user of the bench. */
export interface BenchUser {
  userId: string;
  accessToken: string;
  droidId: string;
}

/** One stream to follow: a STREAMING reply and who owns it. */
export interface PendingReply {
  replyId: string;
  user: BenchUser;
}

/** Runs `work(i)` for i in 0..count-1 with at most `concurrency` in flight. */
export async function inPool(count: number, concurrency: number, work: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

async function ask<T>(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const result = await postGraphQL(url, { query, variables }, token ? { authorization: `Bearer ${token}` } : {});
  if (result.body.errors || !result.body.data)
    throw new Error(`setup request failed (${result.status}): ${JSON.stringify(result.body.errors).slice(0, 300)}`);
  return result.body.data as T;
}

/** Registers and signs in `count` fresh users through the gateway, each with a droid that needs no retrieval. */
export async function signUpUsers(gatewayUrl: string, count: number): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  await inPool(count, 8, async () => {
    const input = newUser('bench');
    await ask(gatewayUrl, REGISTER, { input });
    const { login } = await ask<{ login: { accessToken: string; user: { id: string } } }>(gatewayUrl, LOGIN, {
      input: { usernameOrEmail: input.username, password: input.password },
    });
    // No knowledge base and no units: the engine skips retrieval, so setup costs one grant per reply, not a search.
    const { createDroid } = await ask<{ createDroid: { id: string } }>(
      gatewayUrl,
      'mutation ($input: CreateDroidInput!) { createDroid(input: $input) { id } }',
      { input: { name: 'bench droid', knowledgeScope: { knowledgeBase: false, storageUnits: [] } } },
      login.accessToken,
    );
    users.push({ userId: login.user.id, accessToken: login.accessToken, droidId: createDroid.id });
  });
  return users;
}

/**
 * `count` conversations spread over `users`, one message each: `count`
 * replies generating in the background, each waiting at `tag`'s gate in the
 * timed responder.
 */
export async function startReplies(
  gatewayUrl: string,
  users: readonly BenchUser[],
  count: number,
  tag: string,
): Promise<PendingReply[]> {
  const replies: PendingReply[] = new Array<PendingReply>(count);
  await inPool(count, 32, async (index) => {
    const user = users[index % users.length]!;
    const { startConversation } = await ask<{ startConversation: { id: string } }>(
      gatewayUrl,
      'mutation ($droidId: ID!) { startConversation(droidId: $droidId) { id } }',
      { droidId: user.droidId },
      user.accessToken,
    );
    const { sendMessage } = await ask<{ sendMessage: { reply: { id: string; status: string } } }>(
      gatewayUrl,
      'mutation ($id: ID!, $content: String!) { sendMessage(conversationId: $id, content: $content) { reply { id status } } }',
      { id: startConversation.id, content: benchPrompt(tag, index) },
      user.accessToken,
    );
    replies[index] = { replyId: sendMessage.reply.id, user };
  });
  return replies;
}
