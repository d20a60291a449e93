import { spawnSync } from 'node:child_process';
import os from 'node:os';
import type { StackReady } from './ipc.ts';
import { CLIENT_CORE, REPO, SERVER_CORE, type Mode, type Options } from './options.ts';

// One round's figures and the table the bench prints.

export interface Row {
  mode: Mode;
  streams: number;
  skipped?: string;
  offeredPerSecond: number;
  deliveredPerSecond: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  failedStreams: number;
  gatewayCpuPer1k: number | undefined;
  stackCpuPer1k: number;
  clientCpuPer1k: number;
  rssPerIdleKb: number;
  core0Busy: number;
  core1Busy: number;
  /** CPU of processes other than the bench's (other work on this machine), in cores. */
  othersBusy: number;
  setupSeconds: number;
}

export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`;
}

export function printTable(rows: Row[], options: Options, meta: { embedded: StackReady['embedded']; pinned: boolean }) {
  const commit = spawnSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']).stdout?.toString().trim() ?? '?';
  const dirty = spawnSync('git', ['-C', REPO, 'status', '--porcelain', '--', 'gateway', 'subgraphs', 'platform'])
    .stdout?.toString()
    .trim();
  console.log(
    `\nSubscriptions: replyStream over graphql-ws, ${options.tokens} tokens per stream, one every ` +
      `${options.intervalMs} ms; ${options.perConnection === 1 ? 'one WebSocket per stream' : `up to ${options.perConnection} streams per WebSocket`}.\n` +
      `${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${os.cpus().length} cores ` +
      `(${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0]!.toFixed(1)} at the end, ` +
      `commit ${commit}${dirty ? ' + uncommitted changes in gateway/, subgraphs/ or platform/' : ''}; ` +
      `PostgreSQL ${meta.embedded.database ? 'embedded (PGlite)' : 'real'}, Redis ${meta.embedded.redis ? 'in-process stand-in' : 'real'}; ` +
      (meta.pinned
        ? `stack on core ${SERVER_CORE}, gateway on core ${options.gatewayCore}, clients on core ${CLIENT_CORE}.\n`
        : 'not pinned (no taskset, or --no-pin).\n'),
  );
  console.log(
    '| mode | streams | offered tokens/s | delivered tokens/s | p50 | p99 | max | failed streams | gateway CPU per 1k tokens | stack CPU per 1k tokens | RSS per idle stream | core 0 / core 1 busy | other processes | gateway / direct tokens/s |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    if (row.skipped) {
      console.log(`| ${row.mode} | ${row.streams} | skipped: ${row.skipped} ||||||||||||`);
      continue;
    }
    const direct = rows.find((other) => other.mode === 'direct' && other.streams === row.streams && !other.skipped);
    const ratio =
      row.mode === 'gateway' && direct ? (row.deliveredPerSecond / direct.deliveredPerSecond).toFixed(2) : '–';
    console.log(
      `| ${row.mode} | ${row.streams} | ${row.offeredPerSecond.toFixed(0)} | ${row.deliveredPerSecond.toFixed(0)} | ` +
        `${formatMs(row.p50)} | ${formatMs(row.p99)} | ${formatMs(row.max)} | ${row.failedStreams} | ` +
        `${row.gatewayCpuPer1k === undefined ? '–' : `${row.gatewayCpuPer1k.toFixed(0)} ms`} | ` +
        `${row.stackCpuPer1k.toFixed(0)} ms | ${row.rssPerIdleKb.toFixed(1)} KB (${row.mode === 'gateway' ? 'gateway' : 'stack'}) | ` +
        `${(row.core0Busy * 100).toFixed(0)} % / ${(row.core1Busy * 100).toFixed(0)} % | ` +
        `${(row.othersBusy * 100).toFixed(0)} % of a core | ${ratio} |`,
    );
  }
  console.log(
    `\nClient CPU per 1k tokens: ${rows
      .filter((row) => !row.skipped)
      .map((row) => `${row.mode} × ${row.streams} ${row.clientCpuPer1k.toFixed(0)} ms`)
      .join(', ')}; setup (users, conversations, messages): ${rows
      .filter((row) => !row.skipped)
      .map((row) => `${row.mode} × ${row.streams} ${row.setupSeconds.toFixed(0)} s`)
      .join(', ')}.`,
  );
  console.log(
    'Aims (reported, not asserted): gateway ≥ 0.5 × direct tokens/s, p99 < 100 ms at 1000 streams, < 30 KB RSS per idle stream.',
  );
  console.log(`rerun: npm run bench:subscriptions --${options.args.length ? ` ${options.args.join(' ')}` : ''}`);
}
