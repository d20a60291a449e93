// First: tracing (when OTEL_* turns it on) must start before pg, ioredis, http and graphql load.
import '@supergraph/platform/telemetry-register';
import { readFileSync } from 'node:fs';
import {
  createRedis,
  createUsageRecorder,
  EnvError,
  importInternalSigningKey,
  loadOrCreateDevKeys,
  repoPath,
  startTelemetry,
  stopOnSignals,
  subscribeToRevocations,
  subscribeToSettings,
} from '@supergraph/platform';
import { parse } from 'graphql';
import { parseGatewayEnv, subgraphUrlsFromEnv } from './env.ts';
import { createRedisKeyValueCache } from './persisted-documents.ts';
import { startGateway } from './server.ts';
import { subgraphsOf } from './supergraph-graphs.ts';

/** Service mode: one gateway process configured from the environment; SIGTERM drains and exits. */
async function main(): Promise<void> {
  // First: the instrumentations patch http, undici and ioredis before the gateway opens a connection.
  const telemetry = startTelemetry('gateway');
  const env = parseGatewayEnv();
  const supergraphSdl = readFileSync(repoPath(env.SUPERGRAPH_PATH ?? 'schema/supergraph.graphql'), 'utf8');
  const production = env.NODE_ENV === 'production';
  // Outside production a missing key falls back to the shared development keys file (the one `npm start` uses).
  const privateKeyPem =
    env.GATEWAY_INTERNAL_PRIVATE_KEY?.replaceAll('\\n', '\n') ??
    (await loadOrCreateDevKeys(repoPath(env.DATA_DIR, 'dev-keys.json'))).internalPrivateKeyPem;
  const subgraphUrls = subgraphUrlsFromEnv(subgraphsOf(parse(supergraphSdl)).keys());
  // Production requires REDIS_URL (env.ts); elsewhere a gateway without it hears of no revocation.
  const redis = env.REDIS_URL ? await createRedis(env.REDIS_URL) : undefined;
  const revocations = redis
    ? await subscribeToRevocations(redis, { prefix: env.REDIS_PREFIX, ttlMs: env.ACCESS_TOKEN_MAX_AGE_SECONDS * 1000 })
    : undefined;
  if (!revocations)
    console.warn(
      '[gateway] REDIS_URL is unset: access tokens stay valid after logout or deactivation until they expire',
    );
  // Live settings (maintenance mode) and usage records go through the same Redis; without it, neither.
  const settings = redis ? await subscribeToSettings(redis, { prefix: env.REDIS_PREFIX }) : undefined;
  const usage = redis ? createUsageRecorder(redis, { prefix: env.REDIS_PREFIX }) : undefined;
  for (const warning of env.warnings) console.warn(`[gateway] ${warning}`);
  // Budgets count in the shared Redis; without REDIS_URL (never in production) each process counts alone, in process.
  const budgetRedis = env.BUDGETS_ENABLED ? (redis ?? (await createRedis(undefined))) : undefined;
  if (!env.BUDGETS_ENABLED) console.warn('[gateway] BUDGETS_ENABLED=false: no per-client request budgets');
  const gateway = await startGateway(
    {
      supergraphSdl,
      internalTokenKey: await importInternalSigningKey(privateKeyPem),
      auth: { issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE, jwksUrl: env.AUTH_JWKS_URL },
      subgraphUrls,
      production,
      corsOrigins: env.CORS_ORIGINS,
      ...(env.INTROSPECTION !== undefined ? { introspection: env.INTROSPECTION } : {}),
      credentialCacheTtlMs: env.CREDENTIAL_CACHE_TTL_MS,
      negativeCredentialCacheTtlMs: env.CREDENTIAL_NEGATIVE_CACHE_TTL_MS,
      subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      subgraphDedup: env.SUBGRAPH_DEDUP,
      maxBodyBytes: env.MAX_BODY_BYTES,
      ...(env.FIELD_SUGGESTIONS !== undefined ? { fieldSuggestions: env.FIELD_SUGGESTIONS } : {}),
      operationLimits: {
        maxDepth: env.MAX_DEPTH,
        maxAliases: env.MAX_ALIASES,
        maxRootFields: env.MAX_ROOT_FIELDS,
        maxDirectives: env.MAX_DIRECTIVES,
        maxTokens: env.MAX_TOKENS,
        maxCost: env.MAX_COST,
        defaultListSize: env.COST_DEFAULT_LIST_SIZE,
        maxBatchSize: env.MAX_BATCH_SIZE,
      },
      trustedProxyHops: env.TRUSTED_PROXY_HOPS,
      adminIpAllowlist: env.ADMIN_IP_ALLOWLIST,
      metricsAllow: env.METRICS_ALLOW,
      drainDelayMs: env.DRAIN_DELAY_MS,
      ...(budgetRedis
        ? { budgets: { redis: budgetRedis, tiers: env.budgetTiers, prefix: `${env.REDIS_PREFIX}budget:` } }
        : {}),
      ...(revocations ? { revocations } : {}),
      ...(settings ? { settings } : {}),
      ...(usage ? { usage } : {}),
      accessTokenMaxAgeSeconds: env.ACCESS_TOKEN_MAX_AGE_SECONDS,
      // APQ registrations live in Redis when there is one (shared by every instance), else in Apollo's in-process LRU.
      persistedDocuments: {
        mode: env.persistedDocumentsMode,
        ...(env.PERSISTED_DOCUMENTS_MANIFEST
          ? {
              manifest: /^https?:\/\//i.test(env.PERSISTED_DOCUMENTS_MANIFEST)
                ? env.PERSISTED_DOCUMENTS_MANIFEST
                : repoPath(env.PERSISTED_DOCUMENTS_MANIFEST),
            }
          : {}),
        reloadIntervalMs: env.PERSISTED_DOCUMENTS_RELOAD_INTERVAL_MS,
        ...(redis ? { apqCache: createRedisKeyValueCache(redis, { prefix: `${env.REDIS_PREFIX}apq:` }) } : {}),
        apqTtlSeconds: env.APQ_TTL_SECONDS,
        getMaxAgeSeconds: env.GET_CACHE_MAX_AGE_SECONDS,
      },
    },
    env.GATEWAY_PORT,
    env.GATEWAY_HOST,
  );
  console.log(`[gateway] listening on ${gateway.url} (${[...gateway.subgraphs.keys()].join(', ')})`);
  stopOnSignals('gateway', async () => {
    await gateway.stop();
    await usage?.close();
    await settings?.close();
    await revocations?.close();
    redis?.disconnect();
    if (budgetRedis !== redis) budgetRedis?.disconnect();
    await telemetry.shutdown();
  });
}

main().catch((error: unknown) => {
  console.error(
    error instanceof EnvError
      ? error.message
      : `[gateway] failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
