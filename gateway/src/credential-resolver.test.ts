import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  generateInternalKeyPair,
  importInternalSigningKey,
  importInternalVerifyKey,
  verifyInternalToken,
} from '@supergraph/platform';
import { createCredentialResolver } from './authenticate.ts';

const KNOWN_KEY = 'sg_known';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A stand-in for the credential subgraph: answers `resolveCredential` after a
 * short delay (so concurrent callers really overlap) and counts lookups.
 */
async function serveCredentials(port = 0) {
  const lookups: Array<{ headers: IncomingHttpHeaders; variables: Record<string, unknown> }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', async () => {
      const { variables } = JSON.parse(body) as { variables: Record<string, unknown> };
      lookups.push({ headers: req.headers, variables });
      await sleep(30);
      const known = variables['apiKey'] === KNOWN_KEY;
      const resolveCredential = known
        ? {
            userId: 'u1',
            roles: ['user'],
            scopes: ['profile:read', 'internal:credentials'],
            tier: 'pro',
            sessionId: null,
          }
        : null;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { resolveCredential } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/graphql`,
    lookups,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const internal = generateInternalKeyPair();

describe('createCredentialResolver', () => {
  let endpoint: Awaited<ReturnType<typeof serveCredentials>>;

  beforeEach(async () => {
    endpoint = await serveCredentials();
  });

  afterEach(async () => {
    await endpoint.close();
  });

  async function resolver(options: { ttlMs?: number; negativeTtlMs?: number; url?: string } = {}) {
    return createCredentialResolver({
      url: options.url ?? endpoint.url,
      audience: 'accounts',
      internalTokenKey: await importInternalSigningKey(internal.privateKeyPem),
      ttlMs: options.ttlMs ?? 60_000,
      negativeTtlMs: options.negativeTtlMs ?? 60_000,
    });
  }

  it('asks as the gateway with an internal token for the credential subgraph, and drops internal scopes', async () => {
    const credentials = await resolver();
    const identity = await credentials.resolve('api_key', KNOWN_KEY, 'req-1');
    expect(identity).toEqual({ userId: 'u1', roles: ['user'], scopes: ['profile:read'], tier: 'pro', via: 'api_key' });
    const [lookup] = endpoint.lookups;
    expect(lookup?.variables).toEqual({ apiKey: KNOWN_KEY });
    expect(lookup?.headers['x-request-id']).toBe('req-1');
    const asked = await verifyInternalToken(
      String(lookup?.headers['x-internal-token']),
      'accounts',
      await importInternalVerifyKey(internal.publicKeyPem),
    );
    expect(asked).toMatchObject({ userId: 'system:gateway', scopes: ['internal:credentials'] });
  });

  it('shares one lookup among concurrent resolves of the same secret', async () => {
    const credentials = await resolver();
    const identities = await Promise.all(
      Array.from({ length: 8 }, (_, index) => credentials.resolve('api_key', KNOWN_KEY, `req-${index}`)),
    );
    expect(identities.map((identity) => identity.userId)).toEqual(Array(8).fill('u1'));
    expect(endpoint.lookups).toHaveLength(1);

    const refusals = await Promise.allSettled(
      Array.from({ length: 8 }, () => credentials.resolve('api_key', 'sg_unknown', 'req')),
    );
    expect(refusals.every((refusal) => refusal.status === 'rejected')).toBe(true);
    expect(endpoint.lookups).toHaveLength(2);
  });

  it('keeps a resolved credential for ttlMs, then asks again (the revocation delay)', async () => {
    const credentials = await resolver({ ttlMs: 300 });
    await credentials.resolve('api_key', KNOWN_KEY, 'req');
    await credentials.resolve('api_key', KNOWN_KEY, 'req');
    expect(endpoint.lookups).toHaveLength(1);
    await sleep(350);
    await credentials.resolve('api_key', KNOWN_KEY, 'req');
    expect(endpoint.lookups).toHaveLength(2);
  });

  it('remembers an unknown secret for negativeTtlMs, so guessing does not reach the credential subgraph', async () => {
    const credentials = await resolver({ negativeTtlMs: 300 });
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(credentials.resolve('api_key', 'sg_unknown', 'req')).rejects.toMatchObject({
        status: 401,
        code: 'UNAUTHENTICATED',
        message: 'Invalid or revoked API key',
      });
    }
    expect(endpoint.lookups).toHaveLength(1);
    await sleep(350);
    await expect(credentials.resolve('api_key', 'sg_unknown', 'req')).rejects.toMatchObject({ status: 401 });
    expect(endpoint.lookups).toHaveLength(2);
  });

  it('answers 503 SERVICE_UNAVAILABLE when the credential subgraph is unreachable, and does not cache that', async () => {
    const url = endpoint.url;
    await endpoint.close();
    const credentials = await resolver({ url });
    for (const kind of ['api_key', 'session'] as const) {
      await expect(credentials.resolve(kind, KNOWN_KEY, 'req')).rejects.toMatchObject({
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
        headers: { 'retry-after': '1' },
      });
    }
    // Back up on the same port: the next request asks again instead of remembering the outage.
    endpoint = await serveCredentials(Number(new URL(url).port));
    await expect(credentials.resolve('api_key', KNOWN_KEY, 'req')).resolves.toMatchObject({ userId: 'u1' });
  });
});
