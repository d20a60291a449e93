import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
  type JWTPayload,
  type KeyObject,
} from 'jose';
import { LRUCache } from 'lru-cache';
import {
  createLogger,
  ANONYMOUS,
  countCacheLookup,
  HttpError,
  INTERNAL_SCOPES,
  INTERNAL_TOKEN_HEADER,
  type Identity,
  type RevocationList,
  type Role,
  type Tier,
} from '@supergraph/platform';

const log = createLogger('gateway');
import { createInternalTokenCache } from './internal-token-cache.ts';

/** Access tokens only: refresh tokens (`refresh+jwt`) and anything else are refused. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Default longest lifetime (`exp - iat`) an access token may claim: 1 h, above auth's 15 min. */
export const DEFAULT_ACCESS_TOKEN_MAX_AGE_SECONDS = 3_600;

/** Who the gateway is when it asks the auth subgraph to resolve an API key or session token. */
export const GATEWAY_IDENTITY: Identity = Object.freeze({
  userId: 'system:gateway',
  roles: [],
  scopes: [...INTERNAL_SCOPES],
  tier: 'free',
  via: 'gateway',
});

export interface AccessTokenOptions {
  /** Remote JWKS (the auth subgraph's `/.well-known/jwks.json`). */
  jwksUrl?: string;
  /** A local JWKS instead of the remote one (tests, static deployments). */
  jwks?: JSONWebKeySet;
  issuer: string;
  audience: string;
  /** Tokens claiming a longer lifetime (`exp - iat`) are refused, whoever signed them. Default 1 h. */
  maxAgeSeconds?: number;
  /** Revocations published by auth: tokens issued before their user's or session's revocation are refused. */
  revocations?: RevocationList | undefined;
  /** Most verified tokens remembered (see {@link VERIFIED_TOKEN_REUSE_MS}). Default 10,000; 0 verifies every time. */
  verifiedTokenCacheSize?: number;
}

/**
 * How long one signature verification of an access token is reused (never
 * past its `exp`). Short, so a key retired from the JWKS stops working about
 * as soon as without the cache (when the cached key set expires, ten minutes).
 */
export const VERIFIED_TOKEN_REUSE_MS = 30_000;

export interface CredentialResolverOptions {
  /** The GraphQL endpoint answering `resolveCredential` (the auth subgraph's). */
  url: string;
  /** Its internal-token audience (its subgraph name). */
  audience: string;
  internalTokenKey: CryptoKey | KeyObject;
  /** How long a resolved key/session is trusted before asking again; bounds revocation delay. Default 5 s. */
  ttlMs?: number;
  /** How long an unknown/revoked credential stays rejected without asking. Default 1 s. */
  negativeTtlMs?: number;
  /** A cached identity learned before a revocation of its user, session or keys is asked for again. */
  revocations?: RevocationList | undefined;
  timeoutMs?: number;
  maxEntries?: number;
}

const ROLES: ReadonlySet<string> = new Set<Role>(['user', 'admin']);
const TIERS: ReadonlySet<string> = new Set<Tier>(['free', 'pro', 'enterprise']);

function invalidCredentials(message: string): HttpError {
  return new HttpError(401, 'UNAUTHENTICATED', message, { 'www-authenticate': 'Bearer error="invalid_token"' });
}

/**
 * Verifies access JWTs: EdDSA only, issuer, audience, `exp`, `iat` and header
 * `typ: at+jwt` required, a lifetime (`exp - iat`) within `maxAgeSeconds`, and
 * not issued before a revocation of its user (`sub`) or session (`sid`).
 * `alg: none`, HMAC tricks, unknown `kid`s, expired, revoked or refresh tokens
 * all fail the same way (UNAUTHENTICATED).
 */
export function createAccessTokenVerifier(options: AccessTokenOptions): (token: string) => Promise<Identity> {
  let keys: ReturnType<typeof createLocalJWKSet> | ReturnType<typeof createRemoteJWKSet>;
  if (options.jwks) keys = createLocalJWKSet(options.jwks);
  else if (options.jwksUrl) {
    keys = createRemoteJWKSet(new URL(options.jwksUrl), {
      timeoutDuration: 2_000,
      // An unknown `kid` refetches the set at most this often (key rotation without letting forged kids hammer auth).
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
  } else throw new Error('createAccessTokenVerifier needs jwks or jwksUrl');
  const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_ACCESS_TOKEN_MAX_AGE_SECONDS;
  const cacheSize = options.verifiedTokenCacheSize ?? 10_000;
  // Signature + claims checks per token hash; expiry by Date.now() (as jose's), the LRU only bounds the size.
  const verified =
    cacheSize > 0 ? new LRUCache<string, { payload: JWTPayload; reuseUntil: number }>({ max: cacheSize }) : undefined;

  async function verifyToken(token: string): Promise<JWTPayload> {
    const now = Date.now();
    const key = verified ? createHash('sha256').update(token).digest('base64url') : '';
    const cached = verified?.get(key);
    // jose refuses a token once floor(now / 1000) >= exp; so does the cache.
    const isHit =
      cached !== undefined && now < cached.reuseUntil && Math.floor(now / 1000) < (cached.payload.exp as number);
    if (verified) countCacheLookup('gateway', 'access_token', isHit);
    if (isHit) return cached.payload;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ['EdDSA'],
        issuer: options.issuer,
        audience: options.audience,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['exp', 'sub', 'iat'],
      }));
    } catch {
      throw invalidCredentials('Invalid or expired access token');
    }
    if ((payload.exp as number) - (payload.iat as number) > maxAgeSeconds)
      throw invalidCredentials('Invalid or expired access token');
    verified?.set(key, { payload, reuseUntil: now + VERIFIED_TOKEN_REUSE_MS });
    return payload;
  }

  return async (token) => {
    const payload = await verifyToken(token);
    // Revocations are checked on every request, whether the verification was cached or not.
    if (options.revocations && isRevoked(payload, options.revocations))
      throw invalidCredentials('Access token revoked');
    return identityFromClaims(payload);
  };
}

/**
 * When the token was issued, in ms: auth's `iat_ms` when it agrees with
 * `iat`, else the start of the `iat` second, so a token from the second of a
 * revocation counts as issued before it (refused, never wrongly let through).
 */
export function issuedAtMs(payload: JWTPayload): number {
  const iat = payload.iat as number;
  const precise = payload['iat_ms'];
  return typeof precise === 'number' && Number.isFinite(precise) && Math.floor(precise / 1000) === iat
    ? precise
    : iat * 1000;
}

function isRevoked(payload: JWTPayload, revocations: RevocationList): boolean {
  const issuedAt = issuedAtMs(payload);
  const userRevokedBefore = revocations.revokedBefore('user', String(payload.sub));
  if (userRevokedBefore !== undefined && issuedAt < userRevokedBefore) return true;
  const sessionId = payload['sid'];
  if (typeof sessionId !== 'string') return false;
  const sessionRevokedBefore = revocations.revokedBefore('session', sessionId);
  return sessionRevokedBefore !== undefined && issuedAt < sessionRevokedBefore;
}

/** Maps verified access-token claims onto an {@link Identity}; internal scopes are never taken from a token. */
export function identityFromClaims(payload: JWTPayload): Identity {
  const scopeClaim = payload['scope'] ?? payload['scopes'];
  const scopes =
    typeof scopeClaim === 'string'
      ? scopeClaim.split(' ').filter(Boolean)
      : Array.isArray(scopeClaim)
        ? scopeClaim.filter((scope): scope is string => typeof scope === 'string')
        : [];
  const identity: Identity = {
    userId: String(payload.sub),
    roles: stringList(payload['roles']).filter((role): role is Role => ROLES.has(role)),
    scopes: scopes.filter((scope) => !(INTERNAL_SCOPES as readonly string[]).includes(scope)),
    tier: typeof payload['tier'] === 'string' && TIERS.has(payload['tier']) ? (payload['tier'] as Tier) : 'free',
    via: 'jwt',
  };
  if (typeof payload['sid'] === 'string') identity.sessionId = payload['sid'];
  return identity;
}

interface ResolvedCredential {
  userId: string;
  roles: string[];
  scopes: string[];
  tier: string;
  sessionId?: string | null;
}

const RESOLVE_CREDENTIAL = /* GraphQL */ `
  query GatewayResolveCredential($apiKey: String, $sessionToken: String) {
    resolveCredential(apiKey: $apiKey, sessionToken: $sessionToken) {
      userId
      roles
      scopes
      tier
      sessionId
    }
  }
`;

export interface CredentialResolver {
  resolve(kind: 'api_key' | 'session', secret: string, requestId: string): Promise<Identity>;
  clear(): void;
}

/**
 * Resolves API keys and session tokens through the auth subgraph (as
 * `system:gateway` with `internal:credentials`), caching answers in memory for
 * `ttlMs` so a revoked key stops working within that time. Unknown secrets are
 * cached too (`negativeTtlMs`) so guessing does not hammer auth; secrets are
 * cached by SHA-256, never as they are. With `revocations`, an identity
 * cached before a revocation of its user, session or API keys was learned is
 * looked up again at once instead of living out its TTL.
 */
export function createCredentialResolver(options: CredentialResolverOptions): CredentialResolver {
  const ttl = options.ttlMs ?? 5_000;
  const negativeTtl = options.negativeTtlMs ?? 1_000;
  const cache = new LRUCache<string, { identity: Identity | null; lookedUpAt: number }>({
    max: options.maxEntries ?? 10_000,
    ttl,
  });
  const revocations = options.revocations;
  // One internal token per audience, reused until shortly before it expires (not one signature per lookup).
  const internalTokens = createInternalTokenCache({ key: options.internalTokenKey });

  /** Whether a revocation that may concern `identity` was learned at or after `lookedUpAt`. */
  function isStale(identity: Identity | null, lookedUpAt: number): boolean {
    if (!identity || !revocations || !identity.userId) return false;
    if (revocations.learnedAt('user', identity.userId) >= lookedUpAt) return true;
    if (identity.via === 'api_key' && revocations.learnedAt('api-keys', identity.userId) >= lookedUpAt) return true;
    return identity.sessionId !== undefined && revocations.learnedAt('session', identity.sessionId) >= lookedUpAt;
  }
  const inFlight = new Map<string, { startedAt: number; identity: Promise<Identity | null> }>();

  async function lookup(kind: 'api_key' | 'session', secret: string, requestId: string): Promise<Identity | null> {
    const token = await internalTokens.tokenFor(GATEWAY_IDENTITY, options.audience);
    let response: Response;
    try {
      response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token, 'x-request-id': requestId },
        body: JSON.stringify({
          query: RESOLVE_CREDENTIAL,
          variables: kind === 'api_key' ? { apiKey: secret } : { sessionToken: secret },
        }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
    } catch (error) {
      log.error(`credential lookup failed: ${error instanceof Error ? error.message : String(error)}`);
      throw new HttpError(503, 'SERVICE_UNAVAILABLE', 'Authentication service unavailable', { 'retry-after': '1' });
    }
    const body = (await response.json().catch(() => null)) as {
      data?: { resolveCredential?: ResolvedCredential | null } | null;
      errors?: unknown[];
    } | null;
    if (!response.ok || !body || body.errors?.length || !body.data) {
      log.error({ status: response.status, errors: body?.errors ?? null }, 'credential lookup answered with errors');
      throw new HttpError(503, 'SERVICE_UNAVAILABLE', 'Authentication service unavailable', { 'retry-after': '1' });
    }
    const resolved = body.data.resolveCredential;
    if (!resolved) return null;
    const identity: Identity = {
      userId: resolved.userId,
      roles: resolved.roles.filter((role): role is Role => ROLES.has(role)),
      scopes: resolved.scopes.filter((scope) => !(INTERNAL_SCOPES as readonly string[]).includes(scope)),
      tier: TIERS.has(resolved.tier) ? (resolved.tier as Tier) : 'free',
      via: kind,
    };
    if (resolved.sessionId) identity.sessionId = resolved.sessionId;
    return identity;
  }

  return {
    async resolve(kind, secret, requestId) {
      const key = `${kind}:${createHash('sha256').update(secret).digest('base64url')}`;
      const cached = cache.get(key);
      let identity: Identity | null;
      const isHit = cached !== undefined && !isStale(cached.identity, cached.lookedUpAt);
      countCacheLookup('gateway', 'credential', isHit);
      if (isHit) identity = cached.identity;
      else {
        let pending = inFlight.get(key);
        if (!pending) {
          pending = {
            startedAt: Date.now(),
            identity: lookup(kind, secret, requestId).finally(() => inFlight.delete(key)),
          };
          inFlight.set(key, pending);
        }
        let lookedUpAt = pending.startedAt;
        identity = await pending.identity;
        // A shared lookup may have started before a revocation learned meanwhile: ask once more, alone.
        if (isStale(identity, lookedUpAt)) {
          lookedUpAt = Date.now();
          identity = await lookup(kind, secret, requestId);
        }
        cache.set(key, { identity, lookedUpAt }, { ttl: identity ? ttl : negativeTtl });
      }
      if (!identity)
        throw invalidCredentials(kind === 'api_key' ? 'Invalid or revoked API key' : 'Invalid or expired session');
      return identity;
    },
    clear: () => cache.clear(),
  };
}

export interface Authenticator {
  authenticate(req: IncomingMessage, requestId: string): Promise<Identity>;
  /** The same from headers alone: a WebSocket's `connection_init` payload carries its credential this way. */
  authenticateHeaders(headers: IncomingHttpHeaders, requestId: string): Promise<Identity>;
}

/**
 * Establishes the caller from exactly one credential: `Authorization: Bearer`,
 * `X-API-Key` or `X-Session-Token`. None → anonymous; several → refused, so a
 * request never runs under a credential the client did not mean.
 */
export function createAuthenticator(
  verifyAccessToken: ((token: string) => Promise<Identity>) | undefined,
  credentials: CredentialResolver | undefined,
): Authenticator {
  async function authenticateHeaders(headers: IncomingHttpHeaders, requestId: string): Promise<Identity> {
    const authorization = header(headers, 'authorization');
    const apiKey = header(headers, 'x-api-key');
    const sessionToken = header(headers, 'x-session-token');
    const given = [authorization, apiKey, sessionToken].filter((value) => value !== undefined && value !== '');
    if (given.length === 0) return ANONYMOUS;
    if (given.length > 1) throw invalidCredentials('Send one credential: Authorization, X-API-Key or X-Session-Token');
    if (authorization) {
      // Before the format check: on a graph without a key set, any Authorization gets the same, true answer.
      if (!verifyAccessToken) throw invalidCredentials('This graph accepts no access tokens');
      const match = /^Bearer\s+([\w-]+\.[\w-]*\.[\w-]*)\s*$/i.exec(authorization);
      if (!match?.[1]) throw invalidCredentials('Authorization must be "Bearer <access token>"');
      return verifyAccessToken(match[1]);
    }
    if (!credentials) throw invalidCredentials('This graph accepts no API keys or session tokens');
    if (apiKey) return credentials.resolve('api_key', apiKey.trim(), requestId);
    return credentials.resolve('session', (sessionToken ?? '').trim(), requestId);
  }
  return {
    authenticate: (req, requestId) => authenticateHeaders(req.headers, requestId),
    authenticateHeaders,
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
