import {
  checkRateLimit,
  rateLimiterUnavailable,
  rateLimitRulesFromSdl,
  warnStoreError,
  type RateLimitDecision,
  type RateLimiterOptions,
  type RateLimitRule,
} from '@supergraph/kit';
import { rateLimited, type Identity, type Redis } from '@supergraph/platform';
import type { DocumentNode, GraphQLFieldResolver } from 'graphql';
import { createLoginBackoff, withLoginBackoff, type LoginBackoffPolicy } from './login-backoff.ts';

/**
 * How `startAuthSubgraph` limits: per-field replacements of the SDL's
 * `@rateLimit` values by coordinate (`{ 'Mutation.login': { max: 20 } }`), a
 * Redis key prefix, what to do when Redis fails, or `disabled` (tests and
 * benchmarks only; production refuses it).
 *
 * `onStoreError` defaults to `deny` here (kit's default is `allow`): every
 * limited auth field (register, login, refresh, createApiKey) guards
 * password guessing or credential minting, so while Redis is down they answer
 * SERVICE_UNAVAILABLE rather than run unlimited.
 */
export type AuthRateLimits = Pick<RateLimiterOptions, 'prefix' | 'overrides' | 'disabled' | 'onStoreError'> & {
  /** Replaces parts of `DEFAULT_LOGIN_BACKOFF`, the per-account backoff on `login` (off with `disabled`). */
  loginBackoff?: Partial<LoginBackoffPolicy>;
};

export const AUTH_RATE_LIMIT_PREFIX = 'supergraph:rl:auth:';

/** The counter owner: always the client IP the gateway saw, one shared bucket when it sent none. */
export function clientIpBucket(identity: Identity): string {
  return identity.clientIp ? `ip:${identity.clientIp}` : 'ip:unknown';
}

/**
 * Counts every call of a field carrying `@rateLimit` in `typeDefs` per client
 * IP before it runs, with the kit's atomic sliding window in Redis; over the
 * limit it throws RATE_LIMITED with `extensions.retryAfterSeconds`. Refused
 * calls are not counted. Without Redis it fails closed (SERVICE_UNAVAILABLE)
 * unless `onStoreError: 'allow'`. `login` also gets the per-account backoff
 * of `login-backoff.ts`.
 *
 * Why not kit's `withRateLimits`: it keys signed-in callers by user and
 * multiplies `max` by tier. These fields guard account creation and password
 * guessing, so holding a token (or a pro account) must not buy a fresh
 * budget: one signed-in account could otherwise register accounts without
 * bound, each with its own allowance.
 *
 * @example
 * const limited = withClientIpRateLimits(typeDefs, resolvers, redis, { overrides: { 'Mutation.login': { max: 20 } } });
 */
export function withClientIpRateLimits<TResolvers extends object>(
  typeDefs: DocumentNode,
  resolvers: TResolvers,
  redis: Redis,
  options: AuthRateLimits = {},
): TResolvers {
  const rules = rateLimitRulesFromSdl(typeDefs);
  const known = new Set(rules.map((rule) => rule.coordinate));
  const unknown = Object.keys(options.overrides ?? {}).filter((coordinate) => !known.has(coordinate));
  if (unknown.length > 0) {
    throw new RangeError(
      `rate-limit overrides for fields without @rateLimit: ${unknown.join(', ')} (limited: ${[...known].join(', ')})`,
    );
  }
  if (options.disabled) return resolvers;
  // Generated `Resolvers` interfaces have no index signature; by type name is how this walks them.
  const wrapped: Record<string, unknown> = { ...(resolvers as Record<string, unknown>) };
  const mutations = wrapped['Mutation'] as Record<string, unknown> | undefined;
  if (typeof mutations?.['login'] === 'function') {
    const backoff = createLoginBackoff(redis, options.prefix ?? AUTH_RATE_LIMIT_PREFIX, options.loginBackoff);
    const login = mutations['login'] as Parameters<typeof withLoginBackoff>[0];
    // Inside the per-IP limit: every attempt spends IP budget first, refused ones included.
    wrapped['Mutation'] = { ...mutations, login: withLoginBackoff(login, backoff, options.onStoreError === 'allow') };
  }
  for (const rule of rules) {
    const [typeName, fieldName] = rule.coordinate.split('.') as [string, string];
    const typeResolvers = wrapped[typeName] as Record<string, unknown> | undefined;
    const resolve = typeResolvers?.[fieldName];
    if (typeof resolve !== 'function') {
      throw new Error(`@rateLimit on ${rule.coordinate}, which has no resolver function`);
    }
    const limit = { ...rule, ...options.overrides?.[rule.coordinate] };
    const limited: GraphQLFieldResolver<unknown, { identity: Identity }> = async (source, args, context, info) => {
      await enforce(limit, context.identity, redis, options);
      return (resolve as GraphQLFieldResolver<unknown, { identity: Identity }>)(source, args, context, info);
    };
    wrapped[typeName] = { ...typeResolvers, [fieldName]: limited };
  }
  return wrapped as TResolvers;
}

async function enforce(rule: RateLimitRule, identity: Identity, redis: Redis, options: AuthRateLimits): Promise<void> {
  const key = `${options.prefix ?? AUTH_RATE_LIMIT_PREFIX}${rule.coordinate}:${clientIpBucket(identity)}`;
  let decision: RateLimitDecision;
  try {
    decision = await checkRateLimit(redis, key, rule.max, rule.windowMs);
  } catch (error) {
    if (options.onStoreError === 'allow') {
      warnStoreError(rule.coordinate, error, 'not enforcing the limit (failing open)');
      return;
    }
    warnStoreError(rule.coordinate, error, 'refusing calls until it is back (failing closed)');
    throw rateLimiterUnavailable();
  }
  if (!decision.allowed) throw rateLimited(decision.retryAfterMs / 1000, rule.message);
}
