/**
 * The gateway usage recorder's cost per request, in process: the plugin's
 * hooks plus `record` (a push onto the buffer), then the batched XADDs it
 * causes, amortized. `node test/bench/usage-cost.ts` (REDIS_URL for a real
 * Redis; the in-process stand-in otherwise).
 */
import { parse } from 'graphql';
import { createRedis, createUsageRecorder } from '@supergraph/platform';
import { createUsageTracking } from '../../gateway/src/usage.ts';
import { composeSupergraph } from '../../schema/compose.ts';

const N = Number(process.argv[2] ?? 100_000);
const redis = await createRedis(process.env['REDIS_URL']);
const prefix = `bench:${process.pid}:`;
const recorder = createUsageRecorder(redis, { prefix, flushMs: 1_000 });
const tracking = createUsageTracking(recorder, parse(composeSupergraph()));
const plan = { kind: 'QueryPlan', node: { kind: 'Fetch', serviceName: 'auth' } } as never;
const operation = parse('query Me { me { id } }').definitions[0] as never;
const response = { body: { kind: 'single', singleResult: { data: { me: null } } } } as never;

async function once(): Promise<void> {
  const contextValue = { identity: { userId: 'u1' } };
  const listener = await tracking.plugin.requestDidStart!({ contextValue } as never);
  tracking.didResolveQueryPlan({ queryPlan: plan, requestContext: { context: contextValue } });
  await listener!.didResolveOperation!({ operation, operationName: 'Me' } as never);
  await listener!.willSendResponse!({ response } as never);
}

for (let index = 0; index < 10_000; index += 1) await once();
await recorder.flush();
const cpuBefore = process.cpuUsage();
const started = performance.now();
let onPathMs = 0;
for (let index = 0; index < N; index += 1) {
  const hookStarted = performance.now();
  await once();
  onPathMs += performance.now() - hookStarted;
  // A real server turns the event loop between requests (I/O): so the recorder's batches get to run.
  if (index % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
}
const onPath = onPathMs;
await recorder.flush();
const total = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
console.log(
  JSON.stringify({
    requests: N,
    redis: process.env['REDIS_URL'] ? 'real' : 'in-process',
    onRequestPathUsPerRequest: Number(((onPath * 1000) / N).toFixed(2)),
    includingFlushUsPerRequest: Number(((total * 1000) / N).toFixed(2)),
    cpuUsPerRequest: Number(((cpu.user + cpu.system) / N).toFixed(2)),
    dropped: recorder.dropped(),
  }),
);
await recorder.close();
await redis.del(`${prefix}usage`);
redis.disconnect();
