/**
 * Rate limits shared by every subgraph: the `@rateLimit(window: "1h", max: 30)`
 * directive syntax of `graphql-rate-limit`, enforced with an atomic counter in
 * Redis.
 *
 * Why not graphql-rate-limit's own directive and `RedisStore`: its limiter
 * reads the caller's timestamps (`getForIdentity`), decides in Node, then
 * writes them back (`setForIdentity`). Two requests (or two processes) that
 * read before either writes both see room and both pass, so 50 concurrent
 * calls against a limit of 10 admit far more than 10. The `Store` interface
 * cannot be made atomic (the read does not know the window or the limit, the
 * write cannot refuse), its directive is a graphql-tools v7
 * `SchemaDirectiveVisitor` that `buildSubgraphSchema` does not run, and it
 * reports a message but no retry time. So we keep its SDL (same arguments,
 * `window` in `ms` syntax) and count with one Lua script instead (platform's
 * `checkRateLimit`, which the gateway's budgets share): trim the sliding
 * window, count, admit or refuse, all inside Redis, timed by Redis' own clock
 * so every process agrees.
 */
import {
  defaultFieldResolver,
  GraphQLError,
  Kind,
  type DocumentNode,
  type GraphQLFieldResolver,
  type ValueNode,
} from 'graphql';
import type { Redis } from 'ioredis';
import {
  checkRateLimit,
  createLogger,
  ErrorCode,
  parseTierValues,
  rateLimited,
  type RateLimitDecision,
} from '@supergraph/platform';
import type { Identity, SettingsSource, Tier } from '@supergraph/platform';

// The counter moved to platform so the gateway's budgets share it; kit's API stays the same.
export { checkRateLimit, type RateLimitDecision } from '@supergraph/platform';

const log = createLogger('rate-limit');

/** Declare this in a subgraph SDL that uses `@rateLimit`; it stays subgraph-local (not composed). */
export const RATE_LIMIT_DIRECTIVE_SDL =
  'directive @rateLimit(max: Int, window: String, message: String, identityArgs: [String], arrayLengthField: String) on FIELD_DEFINITION';

/** How many times the free-tier `max` each tier gets. */
export const DEFAULT_TIER_MULTIPLIERS: Readonly<Record<Tier, number>> = Object.freeze({
  free: 1,
  pro: 5,
  enterprise: 20,
});

const WINDOW = /^(\d+)\s*(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `"1h"`, `"30m"`, `"10s"`, `"500ms"`, `"2d"` or a bare number of ms (the subset of `ms` syntax we use). */
export function parseWindow(window: string): number {
  const match = WINDOW.exec(window.trim());
  if (!match) throw new RangeError(`invalid rate-limit window "${window}" (use e.g. "1h", "30m", "10s")`);
  const ms = Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1);
  if (ms < 1) throw new RangeError(`rate-limit window "${window}" must be positive`);
  return ms;
}

/** One `@rateLimit` use, by schema coordinate (`Query.searchKnowledge`). */
export interface RateLimitRule {
  coordinate: string;
  max: number;
  windowMs: number;
  message?: string;
  identityArgs: string[];
  arrayLengthField?: string;
}

/** Reads every `@rateLimit` on object-type fields (and type extensions) of a subgraph SDL. */
export function rateLimitRulesFromSdl(typeDefs: DocumentNode): RateLimitRule[] {
  const rules: RateLimitRule[] = [];
  for (const definition of typeDefs.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const field of definition.fields ?? []) {
      const directive = field.directives?.find((d) => d.name.value === 'rateLimit');
      if (!directive) continue;
      const args = new Map((directive.arguments ?? []).map((arg) => [arg.name.value, arg.value]));
      const coordinate = `${definition.name.value}.${field.name.value}`;
      const max = intValue(args.get('max')) ?? 5;
      const window = stringValue(args.get('window')) ?? '60s';
      const rule: RateLimitRule = {
        coordinate,
        max,
        windowMs: parseWindow(window),
        identityArgs: listOfStrings(args.get('identityArgs')),
      };
      const message = stringValue(args.get('message'));
      if (message !== undefined) rule.message = message;
      const arrayLengthField = stringValue(args.get('arrayLengthField'));
      if (arrayLengthField !== undefined) rule.arrayLengthField = arrayLengthField;
      rules.push(rule);
    }
  }
  return rules;
}

function intValue(node: ValueNode | undefined): number | undefined {
  return node?.kind === Kind.INT ? Number(node.value) : undefined;
}

function stringValue(node: ValueNode | undefined): string | undefined {
  return node?.kind === Kind.STRING ? node.value : undefined;
}

function listOfStrings(node: ValueNode | undefined): string[] {
  if (node?.kind === Kind.STRING) return [node.value];
  if (node?.kind !== Kind.LIST) return [];
  return node.values.flatMap((value) => (value.kind === Kind.STRING ? [value.value] : []));
}

/** The counter owner: the user, else the client IP the gateway saw, else one shared anonymous bucket. */
export function rateLimitIdentityKey(identity: Identity): string {
  if (identity.userId) return `user:${identity.userId}`;
  if (identity.clientIp) return `ip:${identity.clientIp}`;
  return 'anonymous';
}

export interface RateLimiterOptions {
  redis: Redis;
  /** Key prefix in Redis; default `supergraph:rl:`. */
  prefix?: string;
  /** Multiplier of the SDL `max` per tier; default {@link DEFAULT_TIER_MULTIPLIERS}. */
  tierMultipliers?: Partial<Record<Tier, number>>;
  /**
   * The process's live settings: once operations has published a snapshot
   * (version > 0) its `rateLimitMultipliers` replace `tierMultipliers`, read
   * on every call, so a change applies without a restart.
   */
  settings?: SettingsSource;
  /** Per-coordinate replacements of the SDL values (env-configurable), e.g. `{ 'Query.searchKnowledge': { max: 60 } }`. */
  overrides?: Readonly<Record<string, { max?: number; windowMs?: number }>>;
  /** Turns enforcement off (benchmarks); never in production. */
  disabled?: boolean;
  /**
   * When Redis fails: `allow` (default) keeps the field working unlimited and
   * logs a warning; `deny` answers SERVICE_UNAVAILABLE (for fields where an
   * unlimited caller does harm, such as password guessing).
   */
  onStoreError?: 'allow' | 'deny';
}

type ResolverMap = Record<string, unknown>;

/**
 * Wraps the resolvers of every field carrying `@rateLimit` in `typeDefs` so
 * each call is counted first (after `@authenticated`/`@requiresScopes`, which
 * wrap outside it, so refused callers spend no quota). Over limit it throws
 * RATE_LIMITED with `extensions.retryAfterSeconds`.
 *
 * @example
 * startSubgraph({ typeDefs, resolvers: withRateLimits(typeDefs, resolvers, { redis }), ... })
 */
export function withRateLimits<TResolvers extends object>(
  typeDefs: DocumentNode,
  resolvers: TResolvers,
  options: RateLimiterOptions,
): TResolvers {
  const rules = rateLimitRulesFromSdl(typeDefs);
  if (options.disabled || rules.length === 0) return resolvers;
  const wrapped: ResolverMap = { ...(resolvers as ResolverMap) };
  for (const rule of rules) {
    const [typeName, fieldName] = rule.coordinate.split('.') as [string, string];
    const typeResolvers = { ...((wrapped[typeName] as Record<string, unknown> | undefined) ?? {}) };
    const existing = typeResolvers[fieldName];
    const resolve =
      typeof existing === 'function'
        ? (existing as GraphQLFieldResolver<unknown, unknown>)
        : ((existing as { resolve?: GraphQLFieldResolver<unknown, unknown> } | undefined)?.resolve ??
          defaultFieldResolver);
    const limited: GraphQLFieldResolver<unknown, { identity: Identity }> = async (source, args, context, info) => {
      await enforceRule(rule, args, context.identity, options);
      return resolve(source, args, context, info);
    };
    typeResolvers[fieldName] =
      typeof existing === 'object' && existing !== null ? { ...existing, resolve: limited } : limited;
    wrapped[typeName] = typeResolvers;
  }
  return wrapped as TResolvers;
}

async function enforceRule(
  rule: RateLimitRule,
  args: Record<string, unknown>,
  identity: Identity,
  options: RateLimiterOptions,
) {
  const override = options.overrides?.[rule.coordinate];
  const multiplier = tierMultiplier(identity.tier, options);
  const baseMax = override?.max ?? rule.max;
  // A multiplier below 1 (live settings allow 0.1) never closes an open field entirely.
  const max = Math.max(baseMax > 0 ? 1 : 0, Math.floor(baseMax * multiplier));
  const windowMs = override?.windowMs ?? rule.windowMs;
  const argsKey = rule.identityArgs.map((name) => String(args[name] ?? '')).join(':');
  const key = `${options.prefix ?? 'supergraph:rl:'}${rule.coordinate}:${rateLimitIdentityKey(identity)}${argsKey ? `:${argsKey}` : ''}`;
  const list = rule.arrayLengthField ? args[rule.arrayLengthField] : undefined;
  const cost = Array.isArray(list) ? Math.max(1, list.length) : 1;
  let decision: RateLimitDecision;
  try {
    decision = await checkRateLimit(options.redis, key, max, windowMs, cost);
  } catch (error) {
    if (options.onStoreError === 'deny') {
      warnStoreError(rule.coordinate, error, 'refusing calls');
      throw rateLimiterUnavailable();
    }
    warnStoreError(rule.coordinate, error, 'not enforcing the limit (failing open)');
    return;
  }
  if (!decision.allowed) throw rateLimited(decision.retryAfterMs / 1000, rule.message);
}

/** The multiplier of `tier`: the live settings' once a snapshot was published, else the configured (env) or default one. */
export function tierMultiplier(tier: Tier, options: Pick<RateLimiterOptions, 'settings' | 'tierMultipliers'>): number {
  if (options.settings && options.settings.version() > 0) return options.settings.current().rateLimitMultipliers[tier];
  return { ...DEFAULT_TIER_MULTIPLIERS, ...options.tierMultipliers }[tier] ?? 1;
}

/**
 * SERVICE_UNAVAILABLE for a limited field whose limiter cannot reach Redis and
 * that must not run unlimited (fail closed).
 */
export function rateLimiterUnavailable(): GraphQLError {
  return new GraphQLError(
    'Temporarily unavailable: the rate limiter cannot be reached and this operation is not allowed without it; try again shortly',
    { extensions: { code: ErrorCode.ServiceUnavailable } },
  );
}

const STORE_WARNING_INTERVAL_MS = 10_000;
const lastStoreWarning = new Map<string, number>();

/**
 * Logs a limiter's store failure, at most once per 10 s per field: during an
 * outage every call fails the same way, and the Redis client already logged
 * the outage itself.
 */
export function warnStoreError(coordinate: string, error: unknown, consequence: string): void {
  const now = Date.now();
  if (now - (lastStoreWarning.get(coordinate) ?? 0) < STORE_WARNING_INTERVAL_MS) return;
  lastStoreWarning.set(coordinate, now);
  const message = error instanceof Error ? error.message : String(error);
  log.warn({ field: coordinate }, `Redis unavailable for ${coordinate} (${message}); ${consequence}`);
}

/** Parses `pro=5,enterprise=20` (env) into tier multipliers. */
export function parseTierMultipliers(text: string | undefined): Partial<Record<Tier, number>> {
  return parseTierValues(text, {
    what: 'tier multiplier',
    example: 'pro=5,enterprise=20',
    isValid: (value) => Number.isFinite(value) && value > 0,
  });
}

/** Parses `Query.searchKnowledge=30/1h,Query.askKnowledge=20` (env) into per-field overrides. */
export function parseRateLimitOverrides(text: string | undefined): Record<string, { max?: number; windowMs?: number }> {
  const result: Record<string, { max?: number; windowMs?: number }> = {};
  for (const part of (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z_]\w*\.[A-Za-z_]\w*)=(\d+)(?:\/(.+))?$/.exec(part);
    if (!match) throw new RangeError(`invalid rate-limit override "${part}" (use e.g. Query.searchKnowledge=30/1h)`);
    const entry: { max?: number; windowMs?: number } = { max: Number(match[2]) };
    if (match[3]) entry.windowMs = parseWindow(match[3]);
    result[match[1] as string] = entry;
  }
  return result;
}
