// First: the parent spawns this with OTEL_* pointing at its OTLP receiver; tracing starts before anything loads.
import '@supergraph/platform/telemetry-register';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrateAll, openEmbeddedPostgres, type DatabaseTarget } from '@supergraph/db';
import { createRedis, importInternalVerifyKey, startTelemetry } from '@supergraph/platform';
import { databaseSpec, startStorageUnitsSubgraph } from '@supergraph/storage-units';
import { serveFromChild } from '@supergraph/testing';

/**
 * The storage-units subgraph as a process of its own for test/e2e/tracing.e2e.ts:
 * on the parent's database when it has PostgreSQL (else a PGlite of its own,
 * migrated here) and the parent's Redis when it has one. Its spans leave
 * through the OTLP exporter the environment configures, as in production.
 */
await serveFromChild(
  async (config: { databaseUrl: string; redisUrl: string; publicKeyPem: string; rateLimitPrefix: string }) => {
    const telemetry = startTelemetry('storage-units');
    let target: DatabaseTarget;
    let closeEmbedded = async () => {};
    if (config.databaseUrl) {
      target = { kind: 'postgres', url: config.databaseUrl };
    } else {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'tracing-child-'));
      const pglite = await openEmbeddedPostgres(dataDir);
      target = { kind: 'pglite', pglite };
      await migrateAll(target, [databaseSpec]);
      closeEmbedded = async () => {
        await pglite.close();
        await rm(dataDir, { recursive: true, force: true });
      };
    }
    const redis = config.redisUrl ? await createRedis(config.redisUrl) : undefined;
    const running = await startStorageUnitsSubgraph(
      {
        target,
        internalTokenKey: await importInternalVerifyKey(config.publicKeyPem),
        ...(redis ? { redis } : {}),
        rateLimits: { prefix: config.rateLimitPrefix },
      },
      0,
    );
    return {
      url: running.url,
      stop: async () => {
        await running.stop();
        redis?.disconnect();
        await closeEmbedded();
        await telemetry.shutdown();
      },
    };
  },
);
