import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAccessTokenVerifier } from './authenticate.ts';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'supergraph';

interface SigningKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  alg: string;
}

async function signingKey(alg: 'EdDSA' | 'ES256' | 'RS256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' }, alg };
}

/** An access token as the auth subgraph issues it, but signed by `key`. */
function accessToken(key: SigningKey): Promise<string> {
  return new SignJWT({ roles: ['user'], scope: 'profile:read' })
    .setProtectedHeader({ alg: key.alg, kid: String(key.publicJwk.kid), typ: 'at+jwt' })
    .setSubject('u1')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('15m') // auth's lifetime; above ACCESS_TOKEN_MAX_AGE_SECONDS it is refused
    .sign(key.privateKey);
}

describe('createAccessTokenVerifier algorithms', () => {
  it('accepts EdDSA only, even for an ES256 or RS256 token whose public key is in the key set', async () => {
    const ed = await signingKey('EdDSA', 'ed');
    const ec = await signingKey('ES256', 'ec');
    const rsa = await signingKey('RS256', 'rsa');
    const verify = createAccessTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { keys: [ed.publicJwk, ec.publicJwk, rsa.publicJwk] },
    });
    await expect(verify(await accessToken(ed))).resolves.toMatchObject({ userId: 'u1', via: 'jwt' });
    for (const key of [ec, rsa]) {
      await expect(verify(await accessToken(key))).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    }
  });
});

describe('createAccessTokenVerifier verification cache', () => {
  afterEach(() => vi.useRealTimers());

  it('reuses a verification only until the token expires, and checks revocations on every request', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const key = await signingKey('EdDSA', 'ed');
    let revokedBefore: number | undefined;
    const verify = createAccessTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { keys: [key.publicJwk] },
      revocations: {
        revokedBefore: (kind, id) => (kind === 'user' && id === 'u1' ? revokedBefore : undefined),
        learnedAt: () => 0,
        close: async () => {},
      },
    });
    const token = await accessToken(key);
    const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    await expect(verify(token)).resolves.toMatchObject({ userId: 'u1' });
    await expect(verify(token)).resolves.toMatchObject({ userId: 'u1' });

    revokedBefore = Date.now() + 1;
    await expect(verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'Access token revoked' });
    revokedBefore = undefined;
    await expect(verify(token)).resolves.toMatchObject({ userId: 'u1' });

    vi.setSystemTime(exp * 1000 - 1);
    await expect(verify(token)).resolves.toMatchObject({ userId: 'u1' });
    vi.setSystemTime(exp * 1000);
    await expect(verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    vi.setSystemTime(start);
  });

  it('never caches a refusal: a tampered copy of a verified token is still refused', async () => {
    const key = await signingKey('EdDSA', 'ed');
    const verify = createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [key.publicJwk] } });
    const token = await accessToken(key);
    await verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${signature}`;
    await expect(verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(verify(token)).resolves.toMatchObject({ roles: ['user'] });
  });
});

/** A JWKS endpoint whose key set can change, counting how often it is fetched. */
async function serveJwks(keys: JWK[]) {
  let published = keys;
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => fetches,
    publish: (next: JWK[]) => (published = next),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('createAccessTokenVerifier with a remote key set', () => {
  const SECOND = 1_000;
  const MINUTE = 60 * SECOND;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let current: SigningKey;
  let start: number;

  beforeEach(async () => {
    // Only the clock jose and jwtVerify read; sockets and timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    start = Date.now();
    current = await signingKey('EdDSA', 'current');
    jwks = await serveJwks([current.publicJwk]);
  });

  afterEach(async () => {
    vi.useRealTimers();
    await jwks.close();
  });

  const verifier = () => createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: jwks.url });
  const at = (elapsedMs: number) => vi.setSystemTime(start + elapsedMs);

  it('fetches the key set once and reuses it for ten minutes', async () => {
    const verify = verifier();
    const token = await accessToken(current);
    await verify(token);
    at(9 * MINUTE);
    await verify(token);
    await verify(token);
    expect(jwks.fetches()).toBe(1);
    at(10 * MINUTE + SECOND);
    await verify(token);
    expect(jwks.fetches()).toBe(2);
  });

  it('refetches for unknown kids at most once per 30 s, so forged kids cannot hammer the issuer', async () => {
    const verify = verifier();
    await verify(await accessToken(current));
    expect(jwks.fetches()).toBe(1);
    at(SECOND);
    for (const kid of ['forged-1', 'forged-2', 'forged-3']) {
      const forged = await signingKey('EdDSA', kid);
      await expect(verify(await accessToken(forged))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    expect(jwks.fetches()).toBe(1);
    at(31 * SECOND);
    const forged = await signingKey('EdDSA', 'forged-4');
    await expect(verify(await accessToken(forged))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(jwks.fetches()).toBe(2);
    await expect(verify(await accessToken(forged))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(jwks.fetches()).toBe(2);
  });

  it('follows a key rotation: a new kid is picked up after the cooldown, a retired one dropped with the cache', async () => {
    const verify = verifier();
    const oldToken = await accessToken(current);
    await verify(oldToken);
    const next = await signingKey('EdDSA', 'next');
    jwks.publish([current.publicJwk, next.publicJwk]);

    at(10 * SECOND);
    const newToken = await accessToken(next);
    // Within the cooldown the gateway does not ask again, so the brand-new key is not known yet.
    await expect(verify(newToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(jwks.fetches()).toBe(1);

    at(31 * SECOND);
    await expect(verify(newToken)).resolves.toMatchObject({ userId: 'u1' });
    await expect(verify(oldToken)).resolves.toMatchObject({ userId: 'u1' });
    expect(jwks.fetches()).toBe(2);

    jwks.publish([next.publicJwk]);
    at(5 * MINUTE);
    // Still cached: the retired key keeps working until the cached set expires.
    await expect(verify(oldToken)).resolves.toMatchObject({ userId: 'u1' });
    at(31 * SECOND + 10 * MINUTE + SECOND);
    await expect(verify(oldToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(verify(newToken)).resolves.toMatchObject({ userId: 'u1' });
    expect(jwks.fetches()).toBe(3);
  });
});
