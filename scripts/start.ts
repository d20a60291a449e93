import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultAuthConfig, startAuthSubgraph } from '@supergraph/auth';
import { startGateway } from '@supergraph/gateway';
import {
  createRedis,
  EnvError,
  importInternalSigningKey,
  importInternalVerifyKey,
  loadOrCreateDevKeys,
  stopOnSignals,
  type RunningSubgraph,
} from '@supergraph/kit';
import { seedKnowledge, startKnowledgeSubgraph } from '@supergraph/knowledge';
import { seedStorageUnits, startStorageUnitsSubgraph } from '@supergraph/storage-units';
import { migrateAndResolveTargets, openAdminTarget } from './database.ts';
import { env } from './env.ts';

/**
 * `npm start`: migrate, then every subgraph and the gateway as separate HTTP
 * servers on loopback in this one process (so one embedded PGlite can serve
 * them all), then the first-run seed in the background. For trying the graph
 * out and for development; production runs each service as its own process.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  if (env.NODE_ENV === 'production') {
    throw new EnvError(
      'npm start is the development launcher; in production run each service (see README, "Services mode").',
    );
  }
  const startedAt = performance.now();
  const admin = await openAdminTarget();
  const { targetFor } = await migrateAndResolveTargets(admin);
  const keys = await loadOrCreateDevKeys(path.resolve(root, env.DATA_DIR, 'dev-keys.json'));
  const internalVerifyKey = await importInternalVerifyKey(keys.internalPublicKeyPem);
  const redis = await createRedis(env.REDIS_URL);
  const rateLimits = env.RATE_LIMIT_PREFIX ? { prefix: env.RATE_LIMIT_PREFIX } : {};

  const subgraphs: RunningSubgraph[] = [];
  const stopAll = async () => {
    for (const subgraph of subgraphs.reverse()) await subgraph.stop();
    redis.disconnect();
    if (admin.kind === 'pglite') await admin.pglite.close();
  };
  try {
    subgraphs.push(
      await startAuthSubgraph(
        {
          target: targetFor('auth'),
          internalTokenKey: internalVerifyKey,
          config: await defaultAuthConfig({ signingKeys: keys.authSigningKeys }),
          redis,
          rateLimits,
        },
        env.AUTH_PORT,
        env.HOST,
      ),
    );
    subgraphs.push(
      await startKnowledgeSubgraph(
        { target: targetFor('knowledge'), internalTokenKey: internalVerifyKey, redis, rateLimits },
        env.KNOWLEDGE_PORT,
        env.HOST,
      ),
    );
    subgraphs.push(
      await startStorageUnitsSubgraph(
        { target: targetFor('storage-units'), internalTokenKey: internalVerifyKey, redis, rateLimits },
        env.STORAGE_UNITS_PORT,
        env.HOST,
      ),
    );
    const urls = Object.fromEntries(subgraphs.map((subgraph) => [subgraph.name, subgraph.url]));
    const authBase = urls['auth']!.replace(/\/graphql$/, '');
    const gateway = await startGateway(
      {
        supergraphSdl: readFileSync(path.join(root, 'schema', 'supergraph.graphql'), 'utf8'),
        internalTokenKey: await importInternalSigningKey(keys.internalPrivateKeyPem),
        auth: { issuer: 'supergraph-auth', audience: 'supergraph', jwksUrl: `${authBase}/.well-known/jwks.json` },
        subgraphUrls: urls,
        production: false,
        corsOrigins: ['*'],
      },
      env.GATEWAY_PORT,
      env.HOST,
    );
    subgraphs.push({ name: 'gateway', url: gateway.url, http: gateway.http, stop: () => gateway.stop() });
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }

  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(
    `\nSupergraph is up in ${seconds} s (${admin.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'}, ${env.REDIS_URL ? 'Redis' : 'in-process Redis'}):`,
  );
  for (const subgraph of subgraphs) console.log(`  ${subgraph.name.padEnd(14)} ${subgraph.url}`);
  console.log(`\nOpen ${subgraphs.at(-1)?.url} for Apollo Sandbox. Ctrl-C stops.\n`);

  let stopping = false;
  stopOnSignals('start', () => {
    stopping = true;
    return stopAll();
  });

  if (env.SEED_ON_START) {
    const limit = env.SEED_LIMIT !== undefined ? { limit: env.SEED_LIMIT } : {};
    try {
      await seedKnowledge(targetFor('knowledge'), { log: (line) => console.log(line), ...limit });
      await seedStorageUnits(targetFor('storage-units'), { log: (line) => console.log(line), ...limit });
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
    console.error(
      `Port ${port} is already in use (another \`npm start\`?). Stop it, or pick other ports: GATEWAY_PORT, AUTH_PORT, KNOWLEDGE_PORT, STORAGE_UNITS_PORT.`,
    );
  } else {
    console.error(error instanceof EnvError ? error.message : error);
  }
  process.exit(1);
});
