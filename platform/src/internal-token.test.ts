import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Identity } from './identity.ts';
import {
  importInternalSigningKey,
  importInternalVerifyKey,
  INTERNAL_TOKEN_ISSUER,
  signInternalToken,
  verifyInternalToken,
} from './internal-token.ts';
import { generateInternalKeyPair } from './keys.ts';

const pair = generateInternalKeyPair();
const other = generateInternalKeyPair();
const identity: Identity = {
  userId: 'u-1',
  roles: ['user'],
  scopes: ['chat'],
  tier: 'pro',
  via: 'jwt',
  sessionId: 's-1',
};

describe('internal tokens', () => {
  it('round-trips the identity for its audience', async () => {
    const token = await signInternalToken(identity, 'auth', await importInternalSigningKey(pair.privateKeyPem));
    const verified = await verifyInternalToken(token, 'auth', await importInternalVerifyKey(pair.publicKeyPem));
    expect(verified).toEqual(identity);
  });

  it('accepts PEM keys whose line breaks arrive as literal \\n (env files)', async () => {
    const escaped = (pem: string) => pem.trim().replaceAll('\n', '\\n');
    const token = await signInternalToken(
      identity,
      'auth',
      await importInternalSigningKey(escaped(pair.privateKeyPem)),
    );
    const verified = await verifyInternalToken(
      token,
      'auth',
      await importInternalVerifyKey(escaped(pair.publicKeyPem)),
    );
    expect(verified.userId).toBe('u-1');
  });

  it('rejects another audience, another key, alg none and expired tokens', async () => {
    const key = await importInternalSigningKey(pair.privateKeyPem);
    const verifyKey = await importInternalVerifyKey(pair.publicKeyPem);
    const token = await signInternalToken(identity, 'auth', key);
    await expect(verifyInternalToken(token, 'knowledge', verifyKey)).rejects.toThrow();
    const foreign = await signInternalToken(identity, 'auth', await importInternalSigningKey(other.privateKeyPem));
    await expect(verifyInternalToken(foreign, 'auth', verifyKey)).rejects.toThrow();
    const unsecured = new UnsecuredJWT({ roles: ['admin'] })
      .setIssuer(INTERNAL_TOKEN_ISSUER)
      .setAudience('auth')
      .setIssuedAt()
      .setExpirationTime('1m')
      .encode();
    await expect(verifyInternalToken(unsecured, 'auth', verifyKey)).rejects.toThrow();
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: 'internal+jwt' })
      .setIssuer(INTERNAL_TOKEN_ISSUER)
      .setAudience('auth')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(key);
    await expect(verifyInternalToken(expired, 'auth', verifyKey)).rejects.toThrow();
  });

  it('refuses tokens living longer than a minute even when not yet expired', async () => {
    const key = await importInternalSigningKey(pair.privateKeyPem);
    const old = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: 'internal+jwt' })
      .setIssuer(INTERNAL_TOKEN_ISSUER)
      .setAudience('auth')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setExpirationTime('1h')
      .sign(key);
    await expect(verifyInternalToken(old, 'auth', await importInternalVerifyKey(pair.publicKeyPem))).rejects.toThrow();
  });
});
