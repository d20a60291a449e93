/**
 * The other process of the settings propagation test
 * (`settings.int.test.ts`): follows the live settings on `REDIS_URL` under
 * `SETTINGS_PREFIX` and prints one JSON line per snapshot it sees.
 */
import { createRedis } from '../redis.ts';
import { subscribeToSettings } from '../settings.ts';

const redis = await createRedis(process.env['REDIS_URL']);
const settings = await subscribeToSettings(redis, {
  prefix: process.env['SETTINGS_PREFIX'] ?? '',
  onChange: (current) =>
    process.stdout.write(`${JSON.stringify({ version: settings.version(), settings: current })}\n`),
});
process.stdout.write(`${JSON.stringify({ ready: true, version: settings.version() })}\n`);
process.stdin.on('close', () => {
  void settings.close().finally(() => {
    redis.disconnect();
    process.exit(0);
  });
});
process.stdin.resume();
