/**
 * Another process following the live settings, as every service does
 * (`subscribeToSettings` on real Redis): serves `GET /` with the version and
 * settings it holds, for the cross-process propagation test (`forkServer`).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRedis, subscribeToSettings } from '@supergraph/platform';
import { serveFromChild } from '@supergraph/testing';

await serveFromChild(async (config: { redisUrl: string; prefix: string }) => {
  const redis = await createRedis(config.redisUrl);
  const settings = await subscribeToSettings(redis, { prefix: config.prefix });
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ version: settings.version(), settings: settings.current() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await settings.close();
      redis.disconnect();
    },
  };
});
