import { randomUUID } from 'node:crypto';
import { SignJWT, createLocalJWKSet, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import { scopesForRoles, type Role, type ScopeCatalog, type Tier } from '@supergraph/platform';

const ALGORITHM = 'EdDSA';
export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const REFRESH_TOKEN_TYPE = 'refresh+jwt';

/** The public half of a signing key as published at `/.well-known/jwks.json`. */
export interface PublicSigningJwk {
  kid: string;
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  alg: 'EdDSA';
  use: 'sig';
}

/**
 * The keys of `AUTH_SIGNING_KEYS`: the first signs, all of them verify and
 * are published, so rotating to `[new, old]` keeps old tokens valid until they expire.
 */
export interface SigningKeyRing {
  activeKid: string;
  activeKey: CryptoKey;
  publicJwks: readonly PublicSigningJwk[];
  verify: ReturnType<typeof createLocalJWKSet>;
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  scopes: ScopeCatalog;
}

/** Imports and checks private Ed25519 JWKs; throws a readable error for anything else. */
export async function loadSigningKeys(jwks: readonly JWK[]): Promise<SigningKeyRing> {
  const problems = signingKeyProblems(jwks);
  if (problems.length > 0) throw new Error(`AUTH_SIGNING_KEYS: ${problems.join('; ')}`);
  const publicJwks = jwks.map((jwk): PublicSigningJwk => ({
    kid: jwk.kid as string,
    kty: 'OKP',
    crv: 'Ed25519',
    x: jwk.x as string,
    alg: ALGORITHM,
    use: 'sig',
  }));
  const first = jwks[0] as JWK;
  const activeKey = await importJWK({ ...first, alg: ALGORITHM }, ALGORITHM);
  if (activeKey instanceof Uint8Array) throw new Error('AUTH_SIGNING_KEYS: the first key is not an asymmetric key');
  return {
    activeKid: first.kid as string,
    activeKey,
    publicJwks,
    verify: createLocalJWKSet({ keys: publicJwks.map((jwk) => ({ ...jwk })) }),
  };
}

/** Every reason `jwks` cannot serve as signing keys (empty when fine). */
export function signingKeyProblems(jwks: readonly JWK[]): string[] {
  const problems: string[] = [];
  if (jwks.length === 0) problems.push('at least one key is required');
  const kids = new Set<string>();
  jwks.forEach((jwk, index) => {
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') problems.push(`key ${index} is not an Ed25519 (OKP) key`);
    if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string')
      problems.push(`key ${index} is not a private key (needs d and x)`);
    if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) problems.push(`key ${index} has no kid`);
    else if (kids.has(jwk.kid)) problems.push(`kid ${jwk.kid} is used twice`);
    else kids.add(jwk.kid);
  });
  return problems;
}

export interface AccessTokenSubject {
  userId: string;
  sessionId: string;
  role: Role;
  tier: Tier;
}

/** A short-lived access JWT for the gateway: `typ: at+jwt`, scopes from the role. */
export async function signAccessToken(
  ring: SigningKeyRing,
  settings: TokenSettings,
  subject: AccessTokenSubject,
  now = new Date(),
): Promise<{ token: string; expiresAt: Date }> {
  const roles: Role[] = [subject.role];
  return signAccessJwt(
    ring,
    settings,
    {
      userId: subject.userId,
      sessionId: subject.sessionId,
      roles,
      tier: subject.tier,
      scopes: scopesForRoles(settings.scopes, roles),
    },
    settings.accessTokenTtlSeconds,
    now,
  );
}

/** Who a delegated access token acts for, and who acts: see {@link signDelegatedAccessToken}. */
export interface DelegatedTokenSubject {
  userId: string;
  /** The session of the request that asked, if it had one: revoking it kills this token too. */
  sessionId?: string | undefined;
  tier: Tier;
  scopes: readonly string[];
  /** The service acting for the user (RFC 8693 `act.sub`), e.g. `conversation`. */
  actor: string;
  lifetimeSeconds: number;
}

/**
 * An access JWT exactly like a login's (same key, `iss`, `aud`, `typ`,
 * `iat_ms`, `sid`), for a service acting for a user: `scope` as given
 * (already narrowed by the caller), roles `user` only (a delegated token never
 * acts as an admin), and `act: { sub: actor }`.
 */
export async function signDelegatedAccessToken(
  ring: SigningKeyRing,
  settings: TokenSettings,
  subject: DelegatedTokenSubject,
  now = new Date(),
): Promise<{ token: string; expiresAt: Date }> {
  return signAccessJwt(
    ring,
    settings,
    { ...subject, roles: ['user'], act: { sub: subject.actor } },
    subject.lifetimeSeconds,
    now,
  );
}

async function signAccessJwt(
  ring: SigningKeyRing,
  settings: TokenSettings,
  claims: {
    userId: string;
    sessionId?: string | undefined;
    roles: Role[];
    tier: Tier;
    scopes: readonly string[];
    act?: { sub: string };
  },
  lifetimeSeconds: number,
  now: Date,
): Promise<{ token: string; expiresAt: Date }> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = issuedAt + lifetimeSeconds;
  const payload: Record<string, unknown> = {
    // `iat` has whole seconds; revocations are compared to the millisecond, so a token issued just after one works.
    iat_ms: now.getTime(),
    roles: claims.roles,
    tier: claims.tier,
    scope: claims.scopes.join(' '),
  };
  if (claims.sessionId) payload['sid'] = claims.sessionId;
  if (claims.act) payload['act'] = claims.act;
  const token = await new SignJWT(payload)
    .setProtectedHeader({ alg: ALGORITHM, kid: ring.activeKid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(claims.userId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(randomUUID())
    .sign(ring.activeKey);
  return { token, expiresAt: new Date(expiresAt * 1000) };
}

export interface RefreshClaims {
  userId: string;
  sessionId: string;
  familyId: string;
  jti: string;
}

/**
 * A refresh JWT (`typ: refresh+jwt`). Its audience is the issuer itself, so
 * a gateway that forgot to check `typ` still would not take it for an access token.
 */
export async function signRefreshToken(
  ring: SigningKeyRing,
  settings: TokenSettings,
  claims: RefreshClaims,
  expiresAt: Date,
  now = new Date(),
): Promise<string> {
  return new SignJWT({ sid: claims.sessionId, fam: claims.familyId })
    .setProtectedHeader({ alg: ALGORITHM, kid: ring.activeKid, typ: REFRESH_TOKEN_TYPE })
    .setIssuer(settings.issuer)
    .setAudience(settings.issuer)
    .setSubject(claims.userId)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .setJti(claims.jti)
    .sign(ring.activeKey);
}

/** The claims of a genuine, unexpired refresh token signed by any published key; null otherwise. */
export async function verifyRefreshToken(
  ring: SigningKeyRing,
  settings: TokenSettings,
  token: string,
): Promise<RefreshClaims | null> {
  if (token.length > 4096) return null;
  try {
    const { payload } = await jwtVerify(token, ring.verify, {
      algorithms: [ALGORITHM],
      issuer: settings.issuer,
      audience: settings.issuer,
      typ: REFRESH_TOKEN_TYPE,
      requiredClaims: ['sub', 'sid', 'fam', 'jti', 'exp'],
    });
    const { sub, jti, sid, fam } = payload;
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof sid !== 'string' || typeof fam !== 'string')
      return null;
    return { userId: sub, sessionId: sid, familyId: fam, jti };
  } catch {
    return null;
  }
}
