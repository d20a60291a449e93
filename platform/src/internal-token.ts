import { SignJWT, jwtVerify, importPKCS8, importSPKI, type CryptoKey, type KeyObject } from 'jose';
import type { Identity, Role, Tier, CredentialKind } from './identity.ts';

/** Issuer of every internal token; subgraphs accept no other. */
export const INTERNAL_TOKEN_ISSUER = 'supergraph-gateway';
/** Header the gateway puts the internal token in. */
export const INTERNAL_TOKEN_HEADER = 'x-internal-token';
const ALGORITHM = 'EdDSA';
/** Hard cap on lifetime: a leaked internal token is useless within a minute. */
export const INTERNAL_TOKEN_MAX_AGE_SECONDS = 60;

type Key = CryptoKey | KeyObject;

/** PEM from env files often arrives with literal `\n` for its line breaks (`npm run secrets`, docker compose). */
function normalisePem(pem: string): string {
  return pem.replaceAll('\\n', '\n').trim();
}

export async function importInternalSigningKey(pkcs8Pem: string): Promise<Key> {
  return importPKCS8(normalisePem(pkcs8Pem), ALGORITHM);
}

export async function importInternalVerifyKey(spkiPem: string): Promise<Key> {
  return importSPKI(normalisePem(spkiPem), ALGORITHM);
}

/**
 * Signs the caller's identity for one subgraph (audience = subgraph name).
 * Lifetime defaults to 30 s and is capped at 60 s.
 */
export async function signInternalToken(
  identity: Identity,
  audience: string,
  key: Key,
  lifetimeSeconds = 30,
): Promise<string> {
  const claims: Record<string, unknown> = {
    roles: identity.roles,
    scopes: identity.scopes,
    tier: identity.tier,
    via: identity.via,
  };
  if (identity.sessionId) claims['sid'] = identity.sessionId;
  if (identity.clientIp) claims['ip'] = identity.clientIp;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, typ: 'internal+jwt' })
    .setIssuer(INTERNAL_TOKEN_ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${Math.min(lifetimeSeconds, INTERNAL_TOKEN_MAX_AGE_SECONDS)}s`);
  if (identity.userId) jwt.setSubject(identity.userId);
  return jwt.sign(key);
}

/**
 * Verifies an internal token for `audience` and returns the identity it carries.
 * Throws on anything else: wrong key or algorithm, other audience, expired, too old.
 */
export async function verifyInternalToken(token: string, audience: string, key: Key): Promise<Identity> {
  const { payload, protectedHeader } = await jwtVerify(token, key, {
    algorithms: [ALGORITHM],
    issuer: INTERNAL_TOKEN_ISSUER,
    audience,
    typ: 'internal+jwt',
    maxTokenAge: `${INTERNAL_TOKEN_MAX_AGE_SECONDS}s`,
    requiredClaims: ['exp', 'iat'],
  });
  if (protectedHeader.alg !== ALGORITHM) throw new Error('unexpected algorithm');
  const identity: Identity = {
    userId: typeof payload.sub === 'string' ? payload.sub : null,
    roles: stringArray(payload['roles']) as Role[],
    scopes: stringArray(payload['scopes']),
    tier: (typeof payload['tier'] === 'string' ? payload['tier'] : 'free') as Tier,
    via: (typeof payload['via'] === 'string' ? payload['via'] : 'anonymous') as CredentialKind,
  };
  if (typeof payload['sid'] === 'string') identity.sessionId = payload['sid'];
  if (typeof payload['ip'] === 'string') identity.clientIp = payload['ip'];
  return identity;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
