import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import {
  DEFAULT_REDIS_PREFIX,
  EnvError,
  envPrefix,
  flag,
  nodeEnv,
  optionalUrl,
  port,
  type Tier,
} from '@supergraph/platform';
import { parseTierLimits, tierBudgetsFromLimits, type TierBudget } from './budgets.ts';
import { createAddressAllowlist, splitCidrList } from './client-address.ts';
import { PERSISTED_DOCUMENTS_MODES, type PersistedDocumentsMode } from './persisted-documents.ts';

const positiveInt = (defaultValue: number) => z.coerce.number().int().positive().default(defaultValue);

const schema = z.object({
  NODE_ENV: nodeEnv,
  GATEWAY_PORT: port(4000),
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  SUPERGRAPH_PATH: z.string().optional(),
  GATEWAY_INTERNAL_PRIVATE_KEY: z.string().optional(),
  AUTH_JWKS_URL: optionalUrl,
  AUTH_ISSUER: z.string().min(1).default('supergraph-auth'),
  AUTH_AUDIENCE: z.string().min(1).default('supergraph'),
  CORS_ORIGINS: z.string().default(''),
  INTROSPECTION: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value === '' ? undefined : /^(1|true|yes|on)$/i.test(value))),
  CREDENTIAL_CACHE_TTL_MS: positiveInt(5_000),
  CREDENTIAL_NEGATIVE_CACHE_TTL_MS: positiveInt(1_000),
  SUBGRAPH_TIMEOUT_MS: positiveInt(10_000),
  REQUEST_TIMEOUT_MS: positiveInt(15_000),
  /** In-flight deduplication of identical subgraph query fetches (server.ts `subgraphDedup`). */
  SUBGRAPH_DEDUP: flag(true),
  MAX_BODY_BYTES: positiveInt(1024 * 1024),
  // Operation limits (operation-limits.ts); the defaults live there, so unset means "the default".
  MAX_DEPTH: z.coerce.number().int().positive().optional(),
  MAX_ALIASES: z.coerce.number().int().positive().optional(),
  MAX_ROOT_FIELDS: z.coerce.number().int().positive().optional(),
  MAX_DIRECTIVES: z.coerce.number().int().positive().optional(),
  MAX_TOKENS: z.coerce.number().int().positive().optional(),
  MAX_COST: z.coerce.number().int().positive().optional(),
  COST_DEFAULT_LIST_SIZE: z.coerce.number().int().positive().optional(),
  MAX_BATCH_SIZE: z.coerce.number().int().nonnegative().optional(),
  FIELD_SUGGESTIONS: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value === '' ? undefined : /^(1|true|yes|on)$/i.test(value))),
  REDIS_URL: optionalUrl,
  /** The prefix of the live settings' and the usage stream's Redis names (tests use their run's). */
  REDIS_PREFIX: z.string().min(1).default(DEFAULT_REDIS_PREFIX),
  ACCESS_TOKEN_MAX_AGE_SECONDS: positiveInt(3_600),
  /** Deprecated for TRUSTED_PROXY_HOPS; `true` reads as one hop for one release. */
  TRUST_PROXY: flag(false),
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(32).optional(),
  ADMIN_IP_ALLOWLIST: z.string().default(''),
  /** Who may read `/metrics`: CIDR ranges, or `any`. Unset: private networks in production, anyone elsewhere. */
  METRICS_ALLOW: z.string().optional(),
  /** After SIGTERM, `/ready` answers 503 `draining` this long before the listener closes (the load balancer's probe period). */
  DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  BUDGETS_ENABLED: flag(true),
  BUDGET_PER_MINUTE: z.string().default(''),
  BUDGET_PER_DAY: z.string().default(''),
  DATA_DIR: z.string().min(1).default('.data'),
  // Persisted queries (persisted-documents.ts, docs/persisted-queries.md). Unset mode: safelist in production, allow elsewhere.
  PERSISTED_DOCUMENTS_MODE: z.enum(PERSISTED_DOCUMENTS_MODES).optional(),
  PERSISTED_DOCUMENTS_MANIFEST: z.string().optional(),
  PERSISTED_DOCUMENTS_RELOAD_INTERVAL_MS: z.coerce.number().int().nonnegative().default(10_000),
  APQ_TTL_SECONDS: positiveInt(86_400),
  GET_CACHE_MAX_AGE_SECONDS: z.coerce.number().int().nonnegative().default(0),
});

export type GatewayEnv = Readonly<
  Omit<z.infer<typeof schema>, 'CORS_ORIGINS' | 'TRUSTED_PROXY_HOPS' | 'ADMIN_IP_ALLOWLIST' | 'METRICS_ALLOW'> & {
    CORS_ORIGINS: readonly string[];
    /** Resolved: TRUSTED_PROXY_HOPS, else 1 for the deprecated TRUST_PROXY=true, else 0. */
    TRUSTED_PROXY_HOPS: number;
    /** The CIDR ranges, validated. Empty: no allowlist. */
    ADMIN_IP_ALLOWLIST: readonly string[];
    /** The CIDR ranges that may read `/metrics`, validated. Empty: anyone. */
    METRICS_ALLOW: readonly string[];
    /** BUDGET_PER_MINUTE and BUDGET_PER_DAY, parsed and merged per tier. */
    budgetTiers: Partial<Record<Tier, Partial<TierBudget>>>;
    /** Deprecations to log at start-up. */
    warnings: readonly string[];
    /** PERSISTED_DOCUMENTS_MODE, else `safelist` in production and `allow` elsewhere. */
    persistedDocumentsMode: PersistedDocumentsMode;
  }
>;

/**
 * Reads the gateway's configuration once. Production refuses to start, naming
 * every problem at once: no or unusable internal signing key, wildcard or empty
 * CORS origins, no JWKS URL, no REDIS_URL, introspection switched on. Anywhere, the subgraph
 * timeout must be below the request timeout.
 */
export function parseGatewayEnv(source: NodeJS.ProcessEnv = process.env): GatewayEnv {
  const problems = policyProblems(source);
  const result = schema.safeParse(source);
  if (!result.success) {
    problems.unshift(...result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
  }
  if (result.success && result.data.SUBGRAPH_TIMEOUT_MS >= result.data.REQUEST_TIMEOUT_MS) {
    problems.push(
      `SUBGRAPH_TIMEOUT_MS (${result.data.SUBGRAPH_TIMEOUT_MS}) must be below REQUEST_TIMEOUT_MS (${result.data.REQUEST_TIMEOUT_MS})`,
    );
  }
  if (!result.success || problems.length > 0) {
    throw new EnvError(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
  const parsed = result.data;
  const warnings: string[] = [];
  if (parsed.TRUST_PROXY && parsed.TRUSTED_PROXY_HOPS === undefined)
    warnings.push('TRUST_PROXY is deprecated and will be removed: set TRUSTED_PROXY_HOPS=1 instead (read as that now)');
  return Object.freeze({
    ...parsed,
    CORS_ORIGINS: splitOrigins(parsed.CORS_ORIGINS),
    TRUSTED_PROXY_HOPS: parsed.TRUSTED_PROXY_HOPS ?? (parsed.TRUST_PROXY ? 1 : 0),
    ADMIN_IP_ALLOWLIST: splitCidrList(parsed.ADMIN_IP_ALLOWLIST),
    METRICS_ALLOW: metricsAllowOf(parsed.METRICS_ALLOW, parsed.NODE_ENV === 'production'),
    budgetTiers: tierBudgetsFromLimits(
      parseTierLimits(parsed.BUDGET_PER_MINUTE),
      parseTierLimits(parsed.BUDGET_PER_DAY),
    ),
    warnings,
    persistedDocumentsMode: persistedDocumentsModeOf(source),
  });
}

/**
 * `<NAME>_URL` for every subgraph the supergraph names (its `join__Graph`
 * names: `storage-units` → `STORAGE_UNITS_URL`), so the gateway routes any
 * supergraph without knowing its subgraphs in advance.
 */
export function subgraphUrlsFromEnv(
  names: Iterable<string>,
  source: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const urls: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of names) {
    const variable = `${envPrefix(name)}_URL`;
    const value = source[variable]?.trim();
    if (!value) continue;
    if (!z.url().safeParse(value).success) problems.push(`${variable}: not a URL`);
    else urls[name] = value;
  }
  if (problems.length > 0)
    throw new EnvError(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  return urls;
}

function splitOrigins(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}

/** The checks zod cannot express per variable: key usability and the production policy. */
function policyProblems(source: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const production = source['NODE_ENV'] === 'production';
  const corsOrigins = splitOrigins(source['CORS_ORIGINS']);
  for (const origin of corsOrigins) {
    if (origin !== '*' && !isOrigin(origin))
      problems.push(`CORS_ORIGINS: "${origin}" is not an origin like https://app.example.com`);
  }
  problems.push(...edgeProblems(source));
  problems.push(...persistedDocumentsProblems(source));
  const key = source['GATEWAY_INTERNAL_PRIVATE_KEY'];
  if (key) {
    const keyProblem = internalKeyProblem(key);
    if (keyProblem) problems.push(`GATEWAY_INTERNAL_PRIVATE_KEY: ${keyProblem}`);
  }
  if (production) {
    if (!key) problems.push('GATEWAY_INTERNAL_PRIVATE_KEY: required in production (Ed25519 PKCS8 PEM)');
    if (corsOrigins.length === 0) problems.push('CORS_ORIGINS: required in production (comma-separated origins)');
    if (corsOrigins.includes('*')) problems.push('CORS_ORIGINS: wildcard "*" is not allowed in production');
    if (!source['AUTH_JWKS_URL']) problems.push('AUTH_JWKS_URL: required in production');
    if (!source['REDIS_URL'])
      problems.push('REDIS_URL: required in production (revocations from auth reach the gateway through it)');
    if (/^(1|true|yes|on)$/i.test(source['INTROSPECTION'] ?? ''))
      problems.push('INTROSPECTION: must stay off in production');
  }
  return problems;
}

/** Proxy hops, the admin allowlist and the budgets: what their own parsers refuse. */
function edgeProblems(source: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (source['TRUSTED_PROXY_HOPS'] && /^(1|true|yes|on)$/i.test(source['TRUST_PROXY'] ?? ''))
    problems.push('TRUST_PROXY: deprecated; with TRUSTED_PROXY_HOPS set, remove it');
  const checks: Array<[string, (text: string | undefined) => unknown]> = [
    ['ADMIN_IP_ALLOWLIST', (text) => createAddressAllowlist(splitCidrList(text))],
    ['METRICS_ALLOW', (text) => createAddressAllowlist(metricsAllowOf(text, false))],
    ['BUDGET_PER_MINUTE', parseTierLimits],
    ['BUDGET_PER_DAY', parseTierLimits],
  ];
  for (const [name, parseValue] of checks) {
    try {
      parseValue(source[name]);
    } catch (error) {
      problems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return problems;
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

/** Why a PEM cannot sign internal tokens (null when it can): must be an Ed25519 PKCS8 private key. */
export function internalKeyProblem(pem: string): string | null {
  try {
    const key = createPrivateKey({ key: pem.replaceAll('\\n', '\n'), format: 'pem' });
    if (key.asymmetricKeyType !== 'ed25519')
      return `expected an Ed25519 key, got ${key.asymmetricKeyType ?? 'unknown'}`;
    return null;
  } catch {
    return 'not a PKCS8 PEM private key';
  }
}

/**
 * Production serves only the operations of a manifest unless told otherwise:
 * an unset mode is `safelist` there, `off` and `allow` are only ever chosen
 * explicitly, and `safelist` without a manifest would refuse everything.
 */
function persistedDocumentsModeOf(source: NodeJS.ProcessEnv): PersistedDocumentsMode {
  const chosen = source['PERSISTED_DOCUMENTS_MODE'];
  if (chosen && (PERSISTED_DOCUMENTS_MODES as readonly string[]).includes(chosen))
    return chosen as PersistedDocumentsMode;
  return source['NODE_ENV'] === 'production' ? 'safelist' : 'allow';
}

function persistedDocumentsProblems(source: NodeJS.ProcessEnv): string[] {
  if (persistedDocumentsModeOf(source) !== 'safelist' || source['PERSISTED_DOCUMENTS_MANIFEST']) return [];
  return [
    source['PERSISTED_DOCUMENTS_MODE']
      ? 'PERSISTED_DOCUMENTS_MANIFEST: required with PERSISTED_DOCUMENTS_MODE=safelist (a file path or URL)'
      : 'PERSISTED_DOCUMENTS_MANIFEST: required in production, where PERSISTED_DOCUMENTS_MODE defaults to safelist ' +
        '(or set PERSISTED_DOCUMENTS_MODE=allow or off on purpose)',
  ];
}

/** Loopback and the private ranges (RFC 1918, RFC 4193): where a Prometheus scraping from inside the network comes from. */
export const PRIVATE_NETWORK_RANGES: readonly string[] = Object.freeze([
  '127.0.0.0/8',
  '::1/128',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fc00::/7',
]);

/** METRICS_ALLOW: `any` (or unset outside production) is everyone (empty list); unset in production is the private ranges. */
export function metricsAllowOf(text: string | undefined, production: boolean): readonly string[] {
  if (text === undefined || text.trim() === '') return production ? PRIVATE_NETWORK_RANGES : [];
  if (text.trim().toLowerCase() === 'any') return [];
  return splitCidrList(text);
}
