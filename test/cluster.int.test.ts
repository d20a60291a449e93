import { randomBytes } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from '@supergraph/db';
import { operationId } from '@supergraph/gateway';
import { createRedis, type Redis } from '@supergraph/platform';
import { SUBGRAPHS } from '@supergraph/registry';
import { deleteKeys } from '@supergraph/testing';
import { startCluster, type Cluster } from './cluster/cluster.ts';
import { firstCode, postGraphQL, type GraphQLAnswer, type PostOptions } from './cluster/graphql.ts';

/*
 * Issue 12's multi-instance proof: two gateways and two processes of every
 * subgraph, each started like production service mode and configured only by
 * environment, on one real PostgreSQL and one real Redis, behave as one graph.
 * Gateway i reaches each subgraph through a balancer preferring instance i
 * (test/cluster/cluster.ts), so "through A" means auth-1, conversation-1, …
 * and "through B" auth-2, conversation-2, … until the last test kills
 * instances. Nothing here calls a service in-process: every request crosses
 * processes.
 */

const databaseUrl = process.env['DATABASE_URL'];
const redisUrl = process.env['REDIS_URL'];
const run = randomBytes(4).toString('hex');
const ADMIN = `cluster_admin_${run}`;
const PASSWORD = 'Correct-Horse-9-Battery';
/** A client address of its own (Linux routes all of 127.0.0.0/8 to loopback): its login counter starts at zero. */
const FRESH_CLIENT = '127.0.1.2';
/** Apollo Server's APQ entries in the gateways' shared Redis (persisted-documents.ts). */

const REGISTER = 'mutation Register($input: RegisterInput!) { register(input: $input) { id username } }';
const LOGIN = 'mutation Login($input: LoginInput!) { login(input: $input) { accessToken user { id } } }';
const CREATE_DROID = 'mutation CreateDroid($input: CreateDroidInput!) { createDroid(input: $input) { id name } }';
const REPLY_STREAM = `subscription Reply($messageId: ID!) {
  replyStream(messageId: $messageId) { kind sequence delta message { id status content } }
}`;

/** A load client: signed in, and patient enough for a request whose instance is being killed. */
const LOAD_CLIENT = (token: string): PostOptions => ({ token, timeoutMs: 10_000 });

/** Resolves once `predicate` holds (checked every 20 ms); rejects naming `what` after `timeoutMs`. */
async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface ReplyEvent {
  kind: 'CREATED' | 'DELTA' | 'COMPLETE' | 'FAILED';
  sequence: number;
  delta: string | null;
  message: { id: string; status: string; content: string };
}

describe.runIf(databaseUrl && redisUrl)(
  'one graph across instances (skipped: needs DATABASE_URL and REDIS_URL — separate processes share only a real PostgreSQL and Redis)',
  () => {
    let database: TestDatabase;
    let redis: Redis;
    let cluster: Cluster;
    const redisPrefix = `test:${run}:`;
    let user: { userId: string; username: string; accessToken: string };

    /** Gateway A and gateway B, called directly (not through the round-robin). */
    const a = () => cluster.gateways[0]!.url;
    const b = () => cluster.gateways[1]!.url;
    const gql = (url: string, query: string, variables?: Record<string, unknown>, options?: PostOptions) =>
      postGraphQL(url, { query, ...(variables ? { variables } : {}) }, options);
    const dataOf = (answer: GraphQLAnswer) => {
      expect(answer.body.errors, JSON.stringify(answer.body.errors)).toBeUndefined();
      expect(answer.status).toBe(200);
      return answer.body.data as Record<string, unknown>;
    };
    const signUp = async (url: string, username: string) => {
      dataOf(await gql(url, REGISTER, { input: { username, email: `${username}@example.test`, password: PASSWORD } }));
      const { login } = dataOf(await gql(url, LOGIN, { input: { usernameOrEmail: username, password: PASSWORD } }));
      const payload = login as { accessToken: string; user: { id: string } };
      return { userId: payload.user.id, username, accessToken: payload.accessToken };
    };

    beforeAll(async () => {
      database = await createTestDatabase(databaseUrl);
      redis = await createRedis(redisUrl);
      cluster = await startCluster({
        databaseUrl: database.url!,
        redisUrl: redisUrl!,
        redisPrefix,
        bootstrapAdmin: ADMIN,
        env: {
          // This file registers a handful of users from 127.0.0.1; register is not what it measures.
          auth: { AUTH_RATE_LIMITS: 'Mutation.register=100/1h' },
          // Budgets count under a fixed Redis prefix shared with other runs; the load below would spend them.
          gateway: { BUDGETS_ENABLED: 'false' },
          // Paced, so the reply is still streaming when the other gateway's subscriber joins.
          conversation: { CONVERSATION_TOKEN_DELAY_MS: '30' },
        },
      });
    }, 120_000);

    afterAll(async () => {
      await cluster?.stop();
      if (redis) {
        await deleteKeys(redis, redisPrefix);
        redis.disconnect();
      }
      await database?.drop();
    }, 60_000);

    it('runs every process on its own: two gateways and two instances of each subgraph', () => {
      const processes = cluster.processes();
      const expected = 2 * (SUBGRAPHS.length + 1);
      expect(processes).toHaveLength(expected);
      expect(new Set(processes.map((process) => process.pid)).size).toBe(expected);
      expect(new Set(processes.map((process) => process.url)).size).toBe(expected);
    });

    it('a login through gateway A is a valid session at gateway B', async () => {
      user = await signUp(a(), `cluster_${run}`);
      const { me } = dataOf(await gql(b(), '{ me { id username } }', undefined, { token: user.accessToken }));
      expect(me).toEqual({ id: user.userId, username: user.username });
      // A forged token is refused at B as at A: the keys are shared, not the trust.
      const forged = `${user.accessToken.slice(0, -4)}AAAA`;
      for (const url of [a(), b()]) {
        const refused = await gql(url, '{ me { id } }', undefined, { token: forged });
        expect(firstCode(refused)).toBe('UNAUTHENTICATED');
        expect(refused.status).toBe(401);
      }
    });

    it('counts rate limits once across instances: 10 logins per hour per IP, split over both gateways', async () => {
      // A different unknown account each time: auth's per-account backoff never starts, only the per-IP limit counts.
      const attempt = (url: string, usernameOrEmail: string, password = 'Wrong-Password-1') =>
        gql(url, LOGIN, { input: { usernameOrEmail, password } }, { localAddress: FRESH_CLIENT });
      for (let index = 0; index < 10; index++) {
        const wrong = await attempt(index % 2 === 0 ? a() : b(), `nobody_${run}_${index}`);
        expect(firstCode(wrong), `attempt ${index + 1}`).toBe('UNAUTHENTICATED');
      }
      // The 11th is refused at either gateway (so by either auth instance), even a real account's right password.
      for (const url of [a(), b()]) {
        const refused = await attempt(url, user.username, PASSWORD);
        expect(firstCode(refused)).toBe('RATE_LIMITED');
        expect(refused.body.data ?? null).toBeNull();
      }
      // Per IP: the address the other tests use is still welcome.
      const { login } = dataOf(
        await gql(b(), LOGIN, { input: { usernameOrEmail: user.username, password: PASSWORD } }),
      );
      expect((login as { user: { id: string } }).user.id).toBe(user.userId);
    });

    it('serves at gateway B a persisted query registered through gateway A', async () => {
      const query = `query ClusterApq_${run} { me { id } }`;
      const hash = operationId(query);
      const byHash = { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } };
      const token = { token: user.accessToken };
      expect(firstCode(await postGraphQL(b(), byHash, token))).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect((await postGraphQL(a(), { query, ...byHash }, token)).body).toEqual({ data: { me: { id: user.userId } } });
      expect((await postGraphQL(b(), byHash, token)).body).toEqual({ data: { me: { id: user.userId } } });
      // A hash nobody registered stays unknown at both.
      const unknown = { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } };
      for (const url of [a(), b()])
        expect(firstCode(await postGraphQL(url, unknown, token))).toBe('PERSISTED_QUERY_NOT_FOUND');
    });

    it('a settings change through gateway A reaches every instance: maintenance on, then off', async () => {
      const admin = await signUp(a(), ADMIN);
      const setMaintenance = async (enabled: boolean) =>
        dataOf(
          await gql(
            a(),
            'mutation Maintenance($value: JSON!) { updateSetting(key: "maintenance", value: $value) { version } }',
            { value: { enabled, message: enabled ? 'cluster test' : '' } },
            { token: admin.accessToken },
          ),
        );
      const probe = (url: string) =>
        gql(url, CREATE_DROID, { input: { name: `probe ${run}` } }, { token: user.accessToken });
      // A user may not change settings, at either gateway.
      const refused = await gql(
        b(),
        'mutation { updateSetting(key: "maintenance", value: {enabled: true, message: "no"}) { version } }',
        undefined,
        { token: user.accessToken },
      );
      expect(firstCode(refused)).toBe('FORBIDDEN');

      await setMaintenance(true);
      try {
        for (const url of [b(), a()]) {
          await expect
            .poll(
              async () => {
                const answer = await probe(url);
                return [answer.status, firstCode(answer)];
              },
              { timeout: 10_000, interval: 100 },
            )
            .toEqual([503, 'MAINTENANCE']);
        }
        // Reads still answer during maintenance.
        expect(dataOf(await gql(b(), '{ me { id } }', undefined, { token: user.accessToken }))).toEqual({
          me: { id: user.userId },
        });
      } finally {
        await setMaintenance(false);
      }
      for (const url of [b(), a()]) {
        await expect.poll(async () => (await probe(url)).status, { timeout: 10_000, interval: 100 }).toBe(200);
      }
    });

    it('a reply generated on conversation-1 (message sent through A) streams to a subscriber through B (conversation-2)', async () => {
      const adminLogin = dataOf(await gql(b(), LOGIN, { input: { usernameOrEmail: ADMIN, password: PASSWORD } }))
        .login as { accessToken: string };
      // Knowledge written through B (knowledge-2) is what conversation-1's retrieval finds.
      dataOf(
        await gql(
          b(),
          'mutation Add($inputs: [KnowledgeInput!]!) { ingestKnowledgeBatch(inputs: $inputs) { id } }',
          {
            inputs: [
              {
                title: 'Photosynthesis',
                body: 'Photosynthesis converts light energy into chemical energy stored in glucose. Chlorophyll absorbs the light.',
                topic: 'biology',
              },
            ],
          },
          { token: adminLogin.accessToken },
        ),
      );
      const token = { token: user.accessToken };
      const { createDroid } = dataOf(await gql(a(), CREATE_DROID, { input: { name: `chat ${run}` } }, token));
      const { startConversation } = dataOf(
        await gql(
          a(),
          'mutation Start($droidId: ID!) { startConversation(droidId: $droidId) { id } }',
          {
            droidId: (createDroid as { id: string }).id,
          },
          token,
        ),
      );
      const { sendMessage } = dataOf(
        await gql(
          a(),
          'mutation Send($id: ID!, $content: String!) { sendMessage(conversationId: $id, content: $content) { reply { id status } } }',
          { id: (startConversation as { id: string }).id, content: 'How does photosynthesis store light energy?' },
          token,
        ),
      );
      const reply = (sendMessage as { reply: { id: string; status: string } }).reply;
      expect(reply.status).toBe('STREAMING');

      const client = createClient({
        url: b().replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${user.accessToken}` },
        retryAttempts: 0,
      });
      const events: ReplyEvent[] = [];
      try {
        for await (const result of client.iterate({ query: REPLY_STREAM, variables: { messageId: reply.id } })) {
          expect(result.errors).toBeUndefined();
          events.push((result.data as { replyStream: ReplyEvent }).replyStream);
        }
      } finally {
        await client.dispose();
      }
      expect(events.map((event) => event.sequence)).toEqual(events.map((_, index) => index + 1));
      const final = events.at(-1)!;
      expect(final.kind).toBe('COMPLETE');
      expect(final.message).toMatchObject({ id: reply.id, status: 'COMPLETE' });
      const deltas = events.slice(0, -1);
      expect(deltas.length).toBeGreaterThan(5);
      expect(deltas.every((event) => event.kind === 'DELTA')).toBe(true);
      expect(deltas.map((event) => event.delta).join('')).toBe(final.message.content);
      expect(final.message.content).toContain('Photosynthesis');
      // Gateway A only ever reached conversation-1 and gateway B only conversation-2: two instances, one stream.
      expect(cluster.connectionsTo(0, 'conversation', 0)).toBeGreaterThan(0);
      expect(cluster.connectionsTo(0, 'conversation', 1)).toBe(0);
      expect(cluster.connectionsTo(1, 'conversation', 1)).toBeGreaterThan(0);
      expect(cluster.connectionsTo(1, 'conversation', 0)).toBe(0);
    });

    it('killing one instance of each subgraph and a gateway mid-load loses no acknowledged write; the survivors serve', async () => {
      const acknowledged: Array<{ id: string; name: string; at: number }> = [];
      let failed = 0;
      let killedAt = Number.POSITIVE_INFINITY;
      let loading = true;
      let sequence = 0;
      const worker = async () => {
        while (loading) {
          const name = `load ${run} ${++sequence}`;
          try {
            const answer = await gql(cluster.url, CREATE_DROID, { input: { name } }, LOAD_CLIENT(user.accessToken));
            const droid = (answer.body.data?.['createDroid'] ?? null) as { id: string; name: string } | null;
            if (answer.status === 200 && droid && !answer.body.errors) acknowledged.push({ ...droid, at: Date.now() });
            else failed++;
          } catch {
            // A connection cut by a dying process: a client retries.
            failed++;
          }
        }
      };
      const workers = Promise.all([...Array(5).keys()].map(() => worker()));
      const victims = [cluster.gateways[1]!, ...Object.values(cluster.subgraphs).map((instances) => instances[0]!)];
      try {
        // Mid-load by what happened, not by the clock: writes are flowing, then the kill, then writes flow again.
        await waitFor(() => acknowledged.length >= 20, 30_000, 'writes before the kill');
        await Promise.all(victims.map((victim) => victim.kill()));
        killedAt = Date.now();
        await waitFor(
          () => Date.now() - killedAt >= 2_000 && acknowledged.filter((write) => write.at > killedAt).length >= 20,
          30_000,
          'writes after the kill',
        );
      } finally {
        loading = false;
        await workers;
      }
      expect(victims.every((victim) => victim.hasExited())).toBe(true);

      const before = acknowledged.filter((write) => write.at < killedAt).length;
      const after = acknowledged.length - before;
      expect(before, `acknowledged before the kill (failed: ${failed})`).toBeGreaterThan(0);
      expect(after, `acknowledged after the kill (failed: ${failed})`).toBeGreaterThan(0);

      // Every acknowledged write is there, read through the survivors.
      const stored = new Map<string, string>();
      let cursor: string | null = null;
      do {
        const { droids } = dataOf(
          await gql(
            cluster.url,
            'query Droids($after: String) { droids(first: 100, after: $after) { edges { node { id name } } pageInfo { hasNextPage endCursor } } }',
            { after: cursor },
            { token: user.accessToken },
          ),
        );
        const page = droids as {
          edges: Array<{ node: { id: string; name: string } }>;
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
        for (const { node } of page.edges) stored.set(node.id, node.name);
        cursor = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (cursor);
      const missing = acknowledged.filter((write) => stored.get(write.id) !== write.name);
      expect(missing).toEqual([]);

      // The survivors keep serving: every request through the round-robin, and gateway A directly.
      for (let index = 0; index < 6; index++) {
        const url = index % 3 === 2 ? a() : cluster.url;
        expect(dataOf(await gql(url, '{ me { id } }', undefined, { token: user.accessToken }))).toEqual({
          me: { id: user.userId },
        });
      }
      const fresh = dataOf(
        await gql(cluster.url, CREATE_DROID, { input: { name: `after ${run}` } }, { token: user.accessToken }),
      );
      expect((fresh['createDroid'] as { name: string }).name).toBe(`after ${run}`);
      // Gateway A moved to the second instance of what it called since (auth for `me`, conversation for droids).
      for (const name of ['auth', 'conversation']) expect(cluster.connectionsTo(0, name, 1), name).toBeGreaterThan(0);
    });
  },
);
