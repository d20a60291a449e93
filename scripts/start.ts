// First: tracing (when OTEL_* turns it on) must start before pg, ioredis, http and graphql load.
import '@supergraph/platform/telemetry-register';
import { readFileSync } from 'node:fs';
import { startGateway } from '@supergraph/gateway';
import { configureService, type RunningSubgraph } from '@supergraph/kit';
import {
  createRedis,
  createUsageRecorder,
  DEFAULT_REDIS_PREFIX,
  EnvError,
  envPrefix,
  importInternalSigningKey,
  importInternalVerifyKey,
  loadOrCreateDevKeys,
  repoPath,
  startTelemetry,
  stopOnSignals,
  subscribeToRevocations,
  subscribeToSettings,
} from '@supergraph/platform';
import { SUBGRAPHS } from '@supergraph/registry';
import { migrateAndResolveTargets, openAdminTarget, seedAll } from './database.ts';
import { env } from './env.ts';

/**
 * `npm start`: migrate, then every registered subgraph and the gateway as
 * separate HTTP servers on loopback in this one process (so one embedded
 * PGlite can serve them all), then the first-run seed in the background. For
 * trying the graph out and for development; production runs each service as
 * its own process.
 */
async function main(): Promise<void> {
  if (env.NODE_ENV === 'production') {
    throw new EnvError(
      'npm start is the development launcher; in production run each service (see README, "Services mode").',
    );
  }
  const startedAt = performance.now();
  // First, and once: every service of this process shares one tracer provider (off unless OTEL_* asks for it).
  const telemetry = startTelemetry('supergraph');
  const keys = await loadOrCreateDevKeys(repoPath(env.DATA_DIR, 'dev-keys.json'));
  // Every subgraph's variables, checked before anything starts: every problem at once.
  const configured = SUBGRAPHS.map((subgraph) => ({ subgraph, ...configureService(subgraph, process.env, keys) }));
  const problems = configured.flatMap((entry) => entry.problems);
  if (problems.length > 0)
    throw new EnvError(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);

  const admin = await openAdminTarget();
  const { targetFor } = await migrateAndResolveTargets(admin);
  const internalVerifyKey = await importInternalVerifyKey(keys.internalPublicKeyPem);
  const redis = await createRedis(env.REDIS_URL);
  const redisPrefix = configured.find((entry) => entry.settings)?.settings?.redisPrefix ?? DEFAULT_REDIS_PREFIX;
  // Auth publishes revocations over this same client (the in-process stand-in without REDIS_URL); the gateway listens.
  const revocations = await subscribeToRevocations(redis, { prefix: redisPrefix });
  // One per process: every subgraph here and the gateway follow the same live settings; the gateway records usage.
  const liveSettings = await subscribeToSettings(redis, { prefix: redisPrefix });
  const usage = createUsageRecorder(redis, { prefix: redisPrefix });

  const running: RunningSubgraph[] = [];
  const stopAll = async () => {
    for (const service of running.reverse()) await service.stop();
    await usage.close();
    await liveSettings.close();
    await revocations.close();
    redis.disconnect();
    if (admin.kind === 'pglite') await admin.pglite.close();
    await telemetry.shutdown();
  };
  try {
    for (const { subgraph, settings, start } of configured) {
      if (!settings || !start) continue;
      running.push(
        await start({
          target: targetFor(subgraph),
          internalTokenKey: internalVerifyKey,
          redis,
          rateLimits: { ...settings.rateLimits, settings: liveSettings },
          redisPrefix: settings.redisPrefix,
          liveSettings,
          statementTimeoutMs: settings.statementTimeoutMs,
          port: settings.port,
          host: settings.host,
        }),
      );
    }
    const gateway = await startGateway(
      {
        supergraphSdl: readFileSync(repoPath('schema', 'supergraph.graphql'), 'utf8'),
        internalTokenKey: await importInternalSigningKey(keys.internalPrivateKeyPem),
        subgraphUrls: Object.fromEntries(running.map((service) => [service.name, service.url])),
        production: false,
        corsOrigins: ['*'],
        revocations,
        settings: liveSettings,
        usage,
        chatPage: true,
      },
      env.GATEWAY_PORT,
      env.HOST,
    );
    running.push({ name: 'gateway', url: gateway.url, http: gateway.http, stop: () => gateway.stop() });
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }

  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(
    `\nSupergraph is up in ${seconds} s (${admin.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'}, ${env.REDIS_URL ? 'Redis' : 'in-process Redis'}):`,
  );
  for (const service of running) console.log(`  ${service.name.padEnd(14)} ${service.url}`);
  const gatewayUrl = running.at(-1)?.url ?? '';
  console.log(`\nOpen ${gatewayUrl} for Apollo Sandbox, ${new URL('/chat', gatewayUrl).href} to chat. Ctrl-C stops.\n`);

  let stopping = false;
  stopOnSignals('start', () => {
    stopping = true;
    return stopAll();
  });

  if (env.SEED_ON_START) {
    try {
      await seedAll(targetFor);
    } catch (error) {
      if (!stopping)
        console.error(
          `[seed] failed (the graph keeps serving): ${error instanceof Error ? error.message : String(error)}`,
        );
    }
  }
}

main().catch((error: unknown) => {
  const code = (error as { code?: string; port?: number } | null)?.code;
  if (code === 'EADDRINUSE') {
    const port = (error as { port?: number }).port;
    const variables = ['GATEWAY_PORT', ...SUBGRAPHS.map((subgraph) => `${envPrefix(subgraph.name)}_PORT`)];
    console.error(
      `Port ${port} is already in use (another \`npm start\`?). Stop it, or pick other ports: ${variables.join(', ')}.`,
    );
  } else {
    console.error(error instanceof EnvError ? error.message : error);
  }
  process.exit(1);
});
