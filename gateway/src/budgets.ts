import type { ServerResponse } from 'node:http';
import {
  checkRateAndQuota,
  createLogger,
  ErrorCode,
  HttpError,
  metrics,
  type Identity,
  type RateAndQuotaDecision,
  type Redis,
  parseTierValues,
  type Tier,
  withDeadline,
} from '@supergraph/platform';
import { addressBucket } from './client-address.ts';

/** Requests one client may make per minute (sliding) and per day (from its first request). */
export interface TierBudget {
  perMinute: number;
  perDay: number;
}

/** The defaults: 60 / 600 / 6,000 per minute; 10,000 / 100,000 / 1,000,000 per day. */
export const DEFAULT_TIER_BUDGETS: Readonly<Record<Tier, Readonly<TierBudget>>> = Object.freeze({
  free: Object.freeze({ perMinute: 60, perDay: 10_000 }),
  pro: Object.freeze({ perMinute: 600, perDay: 100_000 }),
  enterprise: Object.freeze({ perMinute: 6_000, perDay: 1_000_000 }),
});

export interface BudgetOptions {
  /** Where every gateway instance counts (one budget across instances). */
  redis: Redis;
  /** Per-tier replacements of {@link DEFAULT_TIER_BUDGETS}. */
  tiers?: Partial<Record<Tier, Partial<TierBudget>>>;
  /** Key prefix in Redis; default `supergraph:budget:`. */
  prefix?: string;
  /**
   * A check Redis has not answered after this long lets the request through
   * (fail open, logged), so a slow or dead Redis never holds requests. Default 250 ms.
   */
  timeoutMs?: number;
  /** Where the fail-open warning goes; default the gateway's log (a `warn` line), at most once per 10 s. */
  warn?: (message: string) => void;
}

/** What one request was granted, with the headers that tell the client. */
export interface BudgetVerdict {
  allowed: boolean;
  /** `RateLimit-Limit`, `-Remaining`, `-Reset`, `-Policy`; plus `Retry-After` when refused. */
  headers: Record<string, string>;
  /** Whole seconds until a request would be admitted; 0 when allowed. */
  retryAfterSeconds: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const WARN_EVERY_MS = 10_000;

/**
 * Who a budget belongs to: the user when authenticated (whatever the
 * credential), else the client address (IPv6 by its /64), else one shared
 * anonymous bucket. The tier only sizes the budget: an upgraded user keeps
 * their count and gets the larger limit.
 */
export function budgetOwner(identity: Identity): string {
  if (identity.userId) return `user:${identity.userId}`;
  if (identity.clientIp) return `ip:${addressBucket(identity.clientIp)}`;
  return 'anonymous';
}

/** The budgets of every tier: defaults overlaid with `tiers`; throws RangeError on a negative or fractional limit. */
export function resolveTierBudgets(tiers: BudgetOptions['tiers'] = {}): Record<Tier, TierBudget> {
  const result = {} as Record<Tier, TierBudget>;
  for (const tier of Object.keys(DEFAULT_TIER_BUDGETS) as Tier[]) {
    const budget = { ...DEFAULT_TIER_BUDGETS[tier], ...tiers[tier] };
    for (const [name, value] of Object.entries(budget)) {
      if (!Number.isInteger(value) || value < 0)
        throw new RangeError(`${tier} ${name} must be a non-negative integer, got ${value}`);
    }
    result[tier] = budget;
  }
  return result;
}

/**
 * Gateway-wide request budgets per client and tier, per minute and per day,
 * counted atomically in Redis (one Lua script per request: both windows are
 * checked and counted together) so every gateway instance draws on the same
 * budget. Headers follow draft-ietf-httpapi-ratelimit-headers-06:
 * `RateLimit-Limit` / `-Remaining` / `-Reset` describe whichever window is
 * closer to running out, `RateLimit-Policy` lists both (`60;w=60, 10000;w=86400`).
 *
 * @example
 * const budgets = createBudgets({ redis, tiers: { free: { perMinute: 30 } } });
 * const verdict = await budgets.check(identity); // undefined: Redis failed, request admitted
 */
export function createBudgets(options: BudgetOptions) {
  const tiers = resolveTierBudgets(options.tiers);
  const prefix = options.prefix ?? 'supergraph:budget:';
  const timeoutMs = options.timeoutMs ?? 250;
  const warn = options.warn ?? ((message: string) => createLogger('gateway').warn(message));
  let lastWarning = -Infinity;

  async function count(owner: string, budget: TierBudget): Promise<RateAndQuotaDecision> {
    // The hash tag keeps both keys in one slot, so the script also runs on Redis Cluster.
    const check = checkRateAndQuota(
      options.redis,
      { key: `${prefix}{${owner}}:minute`, max: budget.perMinute, windowMs: MINUTE_MS },
      { key: `${prefix}{${owner}}:day`, max: budget.perDay, windowMs: DAY_MS },
    );
    return withDeadline(check, timeoutMs, () => {
      throw new Error(`no answer within ${timeoutMs} ms`);
    });
  }

  return {
    tiers,
    /** Counts one request of `identity`; undefined when Redis could not say (the request goes through). */
    async check(identity: Identity): Promise<BudgetVerdict | undefined> {
      const budget = tiers[identity.tier] ?? tiers.free;
      let decision: RateAndQuotaDecision;
      try {
        decision = await count(budgetOwner(identity), budget);
      } catch (error) {
        const now = Date.now();
        if (now - lastWarning >= WARN_EVERY_MS) {
          lastWarning = now;
          warn(
            `[budgets] not enforced, Redis failed (requests are let through): ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        return undefined;
      }
      const verdict = verdictOf(decision, budget);
      if (!verdict.allowed) metrics.rateLimitRejections.inc({ service: 'gateway', field: 'budget' });
      return verdict;
    },
  };
}

export type Budgets = ReturnType<typeof createBudgets>;

function verdictOf(decision: RateAndQuotaDecision, budget: TierBudget): BudgetVerdict {
  const minuteRemaining = Math.max(0, budget.perMinute - decision.rateCount);
  const dayRemaining = Math.max(0, budget.perDay - decision.quotaCount);
  // The window closer to running out is the one the client should pace itself by.
  const byDay = dayRemaining < minuteRemaining;
  const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(byDay ? budget.perDay : budget.perMinute),
    'RateLimit-Remaining': String(byDay ? dayRemaining : minuteRemaining),
    'RateLimit-Reset': String(seconds(byDay ? decision.quotaResetMs : decision.rateResetMs)),
    'RateLimit-Policy': `${budget.perMinute};w=${MINUTE_MS / 1000}, ${budget.perDay};w=${DAY_MS / 1000}`,
  };
  if (decision.allowed) return { allowed: true, headers, retryAfterSeconds: 0 };
  const retryAfterSeconds = Math.max(1, seconds(decision.retryAfterMs));
  return { allowed: false, headers: { ...headers, 'Retry-After': String(retryAfterSeconds) }, retryAfterSeconds };
}

/**
 * Puts the verdict's headers on the response and, when the budget is spent,
 * throws the 429 (`RATE_LIMITED`, `retryAfterSeconds`, `Retry-After`) the
 * HTTP layer answers before any GraphQL work.
 */
export function applyBudgetVerdict(res: ServerResponse | undefined, verdict: BudgetVerdict | undefined): void {
  if (!verdict) return;
  if (verdict.allowed) {
    for (const [name, value] of Object.entries(verdict.headers)) res?.setHeader(name, value);
    return;
  }
  throw new HttpError(
    429,
    ErrorCode.RateLimited,
    `Request budget exceeded; retry in ${verdict.retryAfterSeconds} s`,
    verdict.headers,
    { retryAfterSeconds: verdict.retryAfterSeconds },
  );
}

/** Parses `free=60,pro=600` (env) into per-tier limits; throws RangeError naming a bad entry. */
export function parseTierLimits(text: string | undefined): Partial<Record<Tier, number>> {
  return parseTierValues(text, {
    what: 'tier limit',
    example: 'free=60,pro=600,enterprise=6000',
    isValid: (value) => Number.isInteger(value) && value >= 0,
  });
}

/** Per-minute and per-day env limits merged into {@link BudgetOptions.tiers}. */
export function tierBudgetsFromLimits(
  perMinute: Partial<Record<Tier, number>>,
  perDay: Partial<Record<Tier, number>>,
): Partial<Record<Tier, Partial<TierBudget>>> {
  const tiers: Partial<Record<Tier, Partial<TierBudget>>> = {};
  for (const tier of Object.keys(DEFAULT_TIER_BUDGETS) as Tier[]) {
    const budget: Partial<TierBudget> = {};
    if (perMinute[tier] !== undefined) budget.perMinute = perMinute[tier];
    if (perDay[tier] !== undefined) budget.perDay = perDay[tier];
    if (Object.keys(budget).length > 0) tiers[tier] = budget;
  }
  return tiers;
}
