import { LRUCache } from 'lru-cache';
import type { CryptoKey, KeyObject } from 'jose';
import { countCacheLookup, signInternalToken, type Identity } from '@supergraph/platform';

export interface InternalTokenCacheOptions {
  key: CryptoKey | KeyObject;
  /** A token is not handed out once it has less than this left (a subgraph must still accept it on arrival). Default 10 s. */
  marginMs?: number;
  /** Most (identity, subgraph) pairs remembered. Default 10,000. */
  max?: number;
  /** Injected for tests; `signInternalToken` otherwise. */
  sign?: (identity: Identity, audience: string) => Promise<string>;
}

export interface InternalTokenCache {
  /** A token for `identity` at `audience`, signed now or reused while it has more than `marginMs` to live. */
  tokenFor(identity: Identity, audience: string): Promise<string>;
}

/**
 * Every claim an internal token carries, in one string: two identities share a
 * token only if a subgraph could not tell them apart anyway.
 */
export function identityFingerprint(identity: Identity): string {
  return JSON.stringify([
    identity.userId,
    identity.via,
    identity.tier,
    identity.roles,
    identity.scopes,
    identity.sessionId ?? null,
    identity.clientIp ?? null,
  ]);
}

/**
 * Internal tokens signed once per (identity, subgraph) and reused until shortly
 * before they expire: an Ed25519 signature per subgraph fetch was 14 % of the
 * gateway's CPU on a two-fetch query (test/bench/gateway-hot-path.bench.ts).
 * A failed signature is forgotten at once, so the next fetch signs again.
 *
 * @example
 * const tokens = createInternalTokenCache({ key });
 * headers[INTERNAL_TOKEN_HEADER] = await tokens.tokenFor(identity, 'reviews');
 */
export function createInternalTokenCache(options: InternalTokenCacheOptions): InternalTokenCache {
  const marginMs = options.marginMs ?? 10_000;
  const sign = options.sign ?? ((identity, audience) => signInternalToken(identity, audience, options.key));
  const cache = new LRUCache<string, { token: Promise<string>; reuseUntil: number }>({ max: options.max ?? 10_000 });
  return {
    tokenFor(identity, audience) {
      const cacheKey = `${audience}\n${identityFingerprint(identity)}`;
      const cached = cache.get(cacheKey);
      const isHit = cached !== undefined && Date.now() < cached.reuseUntil;
      countCacheLookup('gateway', 'internal_token', isHit);
      if (isHit) return cached.token;
      // Until the signature (and so its exp) is known, concurrent fetches wait for this one.
      const entry = { token: sign(identity, audience), reuseUntil: Number.POSITIVE_INFINITY };
      cache.set(cacheKey, entry);
      entry.token.then(
        (token) => {
          entry.reuseUntil = expiresAtMs(token) - marginMs;
        },
        () => {
          if (cache.get(cacheKey) === entry) cache.delete(cacheKey);
        },
      );
      return entry.token;
    },
  };
}

/** The `exp` of a compact JWT in ms; 0 (reuse never) if it has none. */
function expiresAtMs(token: string): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : 0;
  } catch {
    return 0;
  }
}
