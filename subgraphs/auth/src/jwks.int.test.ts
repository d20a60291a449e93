import { generateSigningJwk } from '@supergraph/platform';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JWKS_PATH } from './server.ts';
import { AuthHarness } from '../test/harness.ts';

let harness: AuthHarness;
let keyA: JWK;
let keyB: JWK;

beforeAll(async () => {
  keyA = await generateSigningJwk();
  keyB = await generateSigningJwk();
  harness = await AuthHarness.start({ signingKeys: [keyA] });
});

afterAll(async () => {
  await harness?.stop();
});

async function verifyAgainstJwks(token: string) {
  const jwks = createRemoteJWKSet(new URL(`${harness.baseUrl}${JWKS_PATH}`), { cacheMaxAge: 0, cooldownDuration: 0 });
  return jwtVerify(token, jwks, {
    algorithms: ['EdDSA'],
    issuer: 'supergraph-auth',
    audience: 'supergraph',
    typ: 'at+jwt',
  });
}

describe('JWKS', () => {
  it('is public (no internal token) and publishes only public key material', async () => {
    const response = await fetch(`${harness.baseUrl}${JWKS_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toContain('max-age');
    const body = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(body.keys).toEqual([{ kid: keyA.kid, kty: 'OKP', crv: 'Ed25519', x: keyA.x, alg: 'EdDSA', use: 'sig' }]);
    expect(JSON.stringify(body)).not.toContain(keyA.d as string);
  });

  it('keeps tokens signed with the old key valid after rotating to [B, A], and signs new ones with B', async () => {
    const { user } = await harness.signUp();
    const beforeRotation = await harness.login(user.username);
    expect(decodeProtectedHeader(beforeRotation.accessToken).kid).toBe(keyA.kid);

    await harness.restart({ signingKeys: [keyB, keyA] });
    const body = (await (await fetch(`${harness.baseUrl}${JWKS_PATH}`)).json()) as { keys: Array<{ kid: string }> };
    expect(body.keys.map((key) => key.kid)).toEqual([keyB.kid, keyA.kid]);

    const { payload } = await verifyAgainstJwks(beforeRotation.accessToken);
    expect(payload.sub).toBe(user.id);

    const afterRotation = await harness.login(user.username);
    expect(decodeProtectedHeader(afterRotation.accessToken).kid).toBe(keyB.kid);
    await verifyAgainstJwks(afterRotation.accessToken);

    // A refresh token signed with A is still accepted, and its replacement is signed with B.
    const refreshed = await harness.ok<{ refresh: { refreshToken: string; accessToken: string } }>(
      'mutation ($t: String!) { refresh(refreshToken: $t) { refreshToken accessToken } }',
      { t: beforeRotation.refreshToken },
    );
    expect(decodeProtectedHeader(refreshed.refresh.refreshToken).kid).toBe(keyB.kid);

    // Once A is retired, tokens signed with it no longer verify.
    await harness.restart({ signingKeys: [keyB] });
    await expect(verifyAgainstJwks(beforeRotation.accessToken)).rejects.toThrow();
    await verifyAgainstJwks(afterRotation.accessToken);
  });

  it('refuses to start with keys that are not private Ed25519 JWKs with a kid', async () => {
    const { kid: _kid, ...withoutKid } = keyA;
    const { d: _d, ...publicOnly } = keyA;
    for (const signingKeys of [[], [withoutKid], [publicOnly], [keyA, keyA]] as JWK[][]) {
      await expect(harness.restart({ signingKeys })).rejects.toThrow(/signingKeys/);
    }
    await harness.restart({ signingKeys: [keyA] });
  });

  it('refuses argon2 parameters below the minimums', async () => {
    await expect(harness.restart({ argon2: { memoryCost: 1024, timeCost: 2, parallelism: 1 } })).rejects.toThrow(
      /memoryCost/,
    );
    await expect(harness.restart({ argon2: { memoryCost: 19_456, timeCost: 1, parallelism: 1 } })).rejects.toThrow(
      /timeCost/,
    );
    await harness.restart({ signingKeys: [keyA] });
  });
});
