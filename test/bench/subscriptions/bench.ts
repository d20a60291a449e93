/**
 * `npm run bench:subscriptions` (issue 8): N concurrent chat streams through
 * the gateway over graphql-ws, side by side in the same run with the same
 * clients connected straight to the conversation subgraph (the physical
 * limit the gateway adds to).
 *
 * Processes: the stack (`server.ts`: every subgraph on a fresh database,
 * real PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set, embedded
 * otherwise; rate limits off) on core 0; the measured gateway (`gateway.ts`,
 * alone in its process so its CPU and RSS are its own) and this process, the
 * clients, on core 1 (`taskset`; `--gateway-core=0` puts the gateway beside
 * the stack instead). The clients cost about a third of the gateway's CPU
 * per token, and the stack saturates its core first: on core 0 the gateway
 * would take its CPU from the subgraph it is compared with. The conversation subgraph answers
 * with a timed responder: `--tokens` tokens per reply, one every
 * `--interval-ms`, each carrying its generation time, so token latency
 * (generation → client receipt) needs no clock correction.
 *
 * Per stream count and mode: fresh users and one conversation + message per
 * stream (through the gateway; the reply waits at its round's gate), RSS of
 * the measured process after GC, N clients connected and subscribed idle
 * (one WebSocket each), RSS again, then the gate opens and every token is
 * timed; afterwards every client closes and the servers' stream counters
 * must return to 0 before the next round.
 *
 *   npm run bench:subscriptions                       N = 1000, 5000, 10000
 *   npm run bench:subscriptions -- --streams=1000,5000
 *   npm run bench:subscriptions -- --quick            50 streams × 10 tokens (smoke run)
 *   npm run bench:subscriptions -- --tokens=10 --interval-ms=1000 --users=100 --modes=direct,gateway
 *   npm run bench:subscriptions -- --streams=10000 --per-connection=2   two streams (one user's) per WebSocket
 *   npm run bench:subscriptions -- --cpu-prof[=dir]   profile the gateway (.data/bench-profiles/… by default)
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { identityFor } from '@supergraph/testing';
import { importInternalSigningKey, signInternalToken } from '@supergraph/platform';
import { signUpUsers, startReplies, type PendingReply } from './chats.ts';
import type { BenchChild } from './ipc.ts';
import {
  canPin,
  coreBusyMs,
  cpuMsOf,
  startChild,
  type GatewayReady,
  type GatewayStats,
  type StackReady,
  type StackStats,
} from './ipc.ts';
import {
  CLIENT_CORE,
  descriptorProblem,
  openFileLimit,
  parseOptions,
  SERVER_CORE,
  type Mode,
  type Options,
} from './options.ts';
import { formatMs, percentile, printTable, type Row } from './report.ts';
import { StreamSet } from './streams.ts';
import { nowMs } from './timed-responder.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const PINNED_ENV = 'BENCH_SUBSCRIPTIONS_PINNED';
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function runRound(
  mode: Mode,
  streams: number,
  options: Options,
  context: { stack: BenchChild; gateway: BenchChild; gatewayUrl: string; directUrl: string; sign: Signer },
): Promise<Row> {
  const { stack, gateway } = context;
  const tag = `${mode}-${streams}-${Date.now().toString(36)}`;
  const setupStarted = Date.now();
  console.log(`[bench] ${mode} × ${streams}: ${Math.min(streams, options.users)} users, ${streams} replies …`);
  const users = await signUpUsers(context.gatewayUrl, Math.min(streams, options.users));
  const replies = await startReplies(context.gatewayUrl, users, streams, tag);
  const stackStats = () => stack.ask<StackStats>('stats', { tag });
  const gatewayStats = () => gateway.ask<GatewayStats>('stats');
  await until(
    `${streams} replies waiting at the gate`,
    async () => (await stackStats()).waiting === streams,
    60_000 + streams * 20,
  );
  const setupSeconds = (Date.now() - setupStarted) / 1000;

  const measured = mode === 'gateway' ? gatewayStats : stackStats;
  const rssBefore = (await measured()).rssBytes;
  const set = new StreamSet({
    replies,
    tokens: options.tokens,
    perConnection: options.perConnection,
    url: (mode === 'gateway' ? context.gatewayUrl : context.directUrl).replace(/^http/, 'ws'),
    connectionParams:
      mode === 'gateway'
        ? async (reply) => ({ authorization: `Bearer ${reply.user.accessToken}` })
        : async (reply) => ({ internalToken: await context.sign(reply) }),
  });
  try {
    console.log(`[bench] ${mode} × ${streams}: connecting …`);
    await set.open();
    await until(
      `${streams} subscriptions open on the subgraph${mode === 'gateway' ? ' and the gateway' : ''}`,
      async () =>
        (await stackStats()).listeners === streams &&
        (mode === 'direct' || (await gatewayStats()).openStreams === streams),
      60_000 + streams * 10,
    );
    const rssAfter = (await measured()).rssBytes;

    const cpu0 = { gateway: cpuMsOf(gateway.pid), stack: cpuMsOf(stack.pid), client: process.cpuUsage() };
    const cores0 = { busy: [coreBusyMs(0), coreBusyMs(1)], at: Date.now() };
    const openedAt = nowMs();
    await stack.ask('open', { tag });
    const expectedMs = options.tokens * options.intervalMs + options.intervalMs;
    const inTime = await set.finished(120_000 + expectedMs + streams * options.tokens);
    const elapsed = Date.now() - cores0.at;
    const [core0Busy, core1Busy] = [0, 1].map((core) => (coreBusyMs(core) - cores0.busy[core]!) / elapsed) as [
      number,
      number,
    ];
    const cpu1 = { gateway: cpuMsOf(gateway.pid), stack: cpuMsOf(stack.pid), client: process.cpuUsage(cpu0.client) };
    const results = set.results();
    if (!inTime) console.log(`[bench] ${mode} × ${streams}: timed out waiting for the streams to end`);
    for (const failure of results.failures) console.log(`[bench] ${mode} × ${streams}: stream failed: ${failure}`);
    const sorted = Float64Array.from(results.latencies).sort();
    const windowMs = results.lastReceivedAt - Math.min(openedAt, results.firstGeneratedAt);
    const per1k = (ms: number) => (results.delivered > 0 ? (ms / results.delivered) * 1000 : Number.NaN);
    return {
      mode,
      streams,
      offeredPerSecond: (streams * 1000) / options.intervalMs,
      deliveredPerSecond: windowMs > 0 ? (results.delivered / windowMs) * 1000 : 0,
      delivered: results.delivered,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.at(-1) ?? Number.NaN,
      failedStreams: results.failedStreams,
      gatewayCpuPer1k: mode === 'gateway' ? per1k(cpu1.gateway - cpu0.gateway) : undefined,
      stackCpuPer1k: per1k(cpu1.stack - cpu0.stack),
      clientCpuPer1k: per1k((cpu1.client.user + cpu1.client.system) / 1000),
      rssPerIdleKb: (rssAfter - rssBefore) / streams / 1024,
      core0Busy,
      core1Busy,
      othersBusy:
        core0Busy +
        core1Busy -
        (cpu1.gateway - cpu0.gateway + cpu1.stack - cpu0.stack + (cpu1.client.user + cpu1.client.system) / 1000) /
          elapsed,
      setupSeconds,
    };
  } finally {
    await set.close();
    // Nothing may leak into the next round: every stream closed on both servers, every reply finished.
    let left = '';
    await until(
      'the servers to close every stream',
      async () => {
        const [s, g] = await Promise.all([stackStats(), gatewayStats()]);
        left = `${s.listeners} hub listeners, ${s.generating} replies generating, ${g.openStreams} gateway streams, ${g.upstreamSockets} upstream sockets`;
        return s.listeners === 0 && s.generating === 0 && g.openStreams === 0 && g.upstreamSockets === 0;
      },
      300_000,
    ).catch(() =>
      console.log(
        `[bench] ${mode} × ${streams}: not drained after 300 s (${left}); later rounds share the machine with it`,
      ),
    );
  }
}

type Signer = (reply: PendingReply) => Promise<string>;

/** Internal tokens for direct clients, as the gateway would sign them; one per user reused for 20 s (they live 60). */
async function directSigner(privateKeyPem: string): Promise<Signer> {
  const key = await importInternalSigningKey(privateKeyPem);
  const cache = new Map<string, { token: Promise<string>; at: number }>();
  return (reply) => {
    const cached = cache.get(reply.user.userId);
    if (cached && Date.now() - cached.at < 20_000) return cached.token;
    const token = signInternalToken(identityFor(reply.user.userId), 'conversation', key, 60);
    cache.set(reply.user.userId, { token, at: Date.now() });
    return token;
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  // Once re-run under taskset this process sees one core: the parent already decided.
  const pinned = process.env[PINNED_ENV] === '1' || (options.pin && canPin() && os.availableParallelism() >= 2);
  if (pinned && process.env[PINNED_ENV] !== '1') {
    // Re-run this process on the clients' core; the children pin themselves to the servers'.
    const result = spawnSync('taskset', ['-c', String(CLIENT_CORE), process.execPath, SELF, ...options.args], {
      stdio: 'inherit',
      env: { ...process.env, [PINNED_ENV]: '1' },
    });
    process.exit(result.status ?? 1);
  }
  if (!pinned) console.log('[bench] not pinning processes to cores (needs taskset and 2 cores); numbers are noisier');
  const limit = openFileLimit();
  const core = pinned ? SERVER_CORE : undefined;
  const env = { BENCH_TOKENS: String(options.tokens), BENCH_INTERVAL_MS: String(options.intervalMs) };

  const { child: stack, ready } = await startChild<StackReady>('stack', path.join(HERE, 'server.ts'), { core, env });
  let gateway: BenchChild | undefined;
  const rows: Row[] = [];
  try {
    const started = await startChild<GatewayReady>('gateway', path.join(HERE, 'gateway.ts'), {
      core: pinned ? options.gatewayCore : undefined,
      nodeArgs: options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [],
      env: {
        BENCH_GATEWAY_CONFIG: JSON.stringify({
          subgraphUrls: ready.subgraphUrls,
          privateKeyPem: ready.privateKeyPem,
          issuer: ready.issuer,
          audience: ready.audience,
        }),
      },
    });
    gateway = started.child;
    const context = {
      stack,
      gateway,
      gatewayUrl: started.ready.url,
      directUrl: ready.subgraphUrls['conversation']!,
      sign: await directSigner(ready.privateKeyPem),
    };
    for (const streams of options.streams) {
      for (const mode of options.modes) {
        const problem = descriptorProblem(mode, streams, options.perConnection, limit);
        if (problem) {
          console.log(`[bench] ${problem}`);
          rows.push({ mode, streams, skipped: `ulimit -n ${limit}` } as Row);
          continue;
        }
        const row = await runRound(mode, streams, options, context);
        rows.push(row);
        // A line per round as it ends, so a long run that is cut short still reports what it measured.
        console.log(
          `[bench] ${mode} × ${streams}: ${row.deliveredPerSecond.toFixed(0)} tokens/s, p50 ${formatMs(row.p50)}, ` +
            `p99 ${formatMs(row.p99)}, ${row.failedStreams} failed streams, ${row.rssPerIdleKb.toFixed(1)} KB per idle stream`,
        );
      }
    }
  } finally {
    await gateway?.stop();
    await stack.stop();
  }
  printTable(rows, options, { embedded: ready.embedded, pinned });
  if (options.cpuProfileDir)
    console.log(
      `gateway profile in ${options.cpuProfileDir}: node test/bench/federation/profile-summary.mts <file>.cpuprofile 30`,
    );
}

await main();
