import { createPublicKey } from 'node:crypto';
import { auth, GRANTS_PATH } from '@supergraph/auth';
import { databaseSpec as knowledgeSpec, knowledge, startKnowledgeSubgraph } from '@supergraph/knowledge';
import type { RunningSubgraph } from '@supergraph/kit';
import {
  importInternalSigningKey,
  importInternalVerifyKey,
  INTERNAL_TOKEN_HEADER,
  signInternalToken,
} from '@supergraph/platform';
import { storageUnits } from '@supergraph/storage-units';
import { deadUrl, identityFor, startTestServices, type TestServices } from '@supergraph/testing';
import type { RunningGateway } from '@supergraph/gateway';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../../schema/compose.ts';
import { firstCode, postGraphQL, registerAndLogin, startStack, type Stack } from './harness.ts';

/**
 * Conversation's delegated grant through the real gateway: an internal token
 * signed for audience `conversation` (what the user's `sendMessage` carried)
 * buys a read-only access token at auth's `/internal/grants`; the gateway then
 * lets it search but refuses writes and profile reads, and drops it when the
 * user's session ends.
 */
let stack: Stack;
let knowledgeServices: TestServices;
let knowledgeSubgraph: RunningSubgraph;
let gateway: RunningGateway;

beforeAll(async () => {
  stack = await startStack({ supergraph: 'probe' });
  const publicKeyPem = createPublicKey(stack.internalPrivateKeyPem).export({ format: 'pem', type: 'spki' }).toString();
  knowledgeServices = await startTestServices([knowledgeSpec]);
  knowledgeSubgraph = await startKnowledgeSubgraph(
    {
      target: knowledgeServices.targetFor(knowledgeSpec),
      internalTokenKey: await importInternalVerifyKey(publicKeyPem),
      redis: stack.redis,
      rateLimits: { prefix: knowledgeServices.rateLimitPrefix('knowledge') },
    },
    0,
  );
  // The three built subgraphs only: storage-units is down (the gateway must refuse before calling it).
  gateway = await stack.startGatewayWith({
    supergraphSdl: composeSupergraph([auth, knowledge, storageUnits]),
    subgraphUrls: { auth: stack.auth.url, knowledge: knowledgeSubgraph.url, 'storage-units': await deadUrl() },
  });
});

afterAll(async () => {
  await stack?.stop();
  await knowledgeSubgraph?.stop();
  await knowledgeServices?.close();
});

/** What the conversation subgraph does with `ctx.internalToken`. */
async function requestGrant(internalToken: string, provider: string | null = null) {
  const response = await fetch(stack.auth.url.replace(/\/graphql$/, GRANTS_PATH), {
    method: 'POST',
    headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: internalToken },
    body: JSON.stringify({ provider }),
  });
  return { status: response.status, body: (await response.json()) as { accessToken: string; expiresAt: string } };
}

/** A signed-in user and the internal token the gateway would hand conversation for their request. */
async function userAskingConversation() {
  const user = await registerAndLogin(stack, 'grant');
  const sessionId = decodeJwt(user.accessToken)['sid'] as string;
  const identity = identityFor(user.userId, ['user'], { sessionId });
  const signingKey = await importInternalSigningKey(stack.internalPrivateKeyPem);
  return { user, internalToken: await signInternalToken(identity, 'conversation', signingKey) };
}

function asGrant(accessToken: string) {
  return (query: string, variables?: Record<string, unknown>) =>
    postGraphQL(
      gateway.url,
      { query, ...(variables ? { variables } : {}) },
      { authorization: `Bearer ${accessToken}` },
    );
}

describe('conversation grants through the gateway', () => {
  it('searches with the grant, but every write and profile read is refused', async () => {
    const { user, internalToken } = await userAskingConversation();
    const grant = await requestGrant(internalToken);
    expect(grant.status).toBe(200);
    const call = asGrant(grant.body.accessToken);

    const search = await call('{ searchKnowledge(query: "photosynthesis") { edges { node { id } } } }');
    expect(search.status).toBe(200);
    expect(search.body.errors).toBeUndefined();
    expect(search.body.data).toEqual({ searchKnowledge: { edges: [] } });

    const ingest = await call('mutation ($input: KnowledgeInput!) { ingestKnowledge(input: $input) { id } }', {
      input: { title: 'Written by a grant', body: 'must not land', topic: 'test' },
    });
    expect(firstCode(ingest)).toBe('FORBIDDEN');
    const store = await call(
      'mutation ($input: UnitRecordInput!) { storeRecord(unitId: "physics", input: $input) { id } }',
      { input: { title: 'Written by a grant', content: 'must not land' } },
    );
    expect(firstCode(store)).toBe('FORBIDDEN');
    expect(
      firstCode(await call('mutation { setProviderKey(provider: "openai", key: "sk-stolen-1234") { last4 } }')),
    ).toBe('FORBIDDEN');
    expect(firstCode(await call('{ providerKeys { provider } }'))).toBe('FORBIDDEN');
    expect(firstCode(await call('{ apiKeys { id } }'))).toBe('FORBIDDEN');

    // `me` is open to anyone signed in; its private fields need profile:read, which a grant lacks.
    const me = await call('{ me { id email preferences } }');
    expect(me.body.data).toEqual({ me: { id: user.userId, email: null, preferences: null } });
  });

  it('stops working at the gateway once the session it was minted for ends', async () => {
    const { user, internalToken } = await userAskingConversation();
    const grant = await requestGrant(internalToken);
    const call = asGrant(grant.body.accessToken);
    expect((await call('{ me { id } }')).body.data).toEqual({ me: { id: user.userId } });

    const logout = await postGraphQL(
      gateway.url,
      { query: 'mutation { logout }' },
      {
        authorization: `Bearer ${user.accessToken}`,
      },
    );
    expect(logout.body.data).toEqual({ logout: true });
    // The revocation travels over Redis pub/sub: poll with a generous bound.
    const deadline = Date.now() + 15_000;
    let code: unknown;
    do {
      code = firstCode(await call('{ me { id } }'));
      if (code === 'UNAUTHENTICATED') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } while (Date.now() < deadline);
    expect(code).toBe('UNAUTHENTICATED');

    // And auth mints no new grant for the ended session.
    expect((await requestGrant(internalToken)).status).toBe(401);
  });

  it('is not reachable through the gateway', async () => {
    const { internalToken } = await userAskingConversation();
    const response = await fetch(gateway.url.replace(/\/graphql$/, GRANTS_PATH), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: internalToken },
      body: JSON.stringify({ provider: null }),
    });
    expect(response.status).toBe(404);
    expect(JSON.stringify(await response.json())).not.toContain('accessToken');
  });
});
