import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The bench's command line and the machine limits it checks before each round.

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The stack's core and the clients' (the gateway's by default). */
export const SERVER_CORE = 0;
export const CLIENT_CORE = 1;

export type Mode = 'direct' | 'gateway';

export interface Options {
  streams: number[];
  tokens: number;
  intervalMs: number;
  users: number;
  perConnection: number;
  gatewayCore: number;
  modes: Mode[];
  cpuProfileDir: string | undefined;
  pin: boolean;
  args: string[];
}

export function fail(message: string): never {
  console.error(`[bench] ${message}`);
  process.exit(1);
}

export function parseOptions(argv: string[]): Options {
  const options: Options = {
    streams: [1000, 5000, 10000],
    tokens: 10,
    intervalMs: 1000,
    users: 100,
    perConnection: 1,
    gatewayCore: CLIENT_CORE,
    modes: ['direct', 'gateway'],
    cpuProfileDir: undefined,
    pin: true,
    args: argv,
  };
  for (const arg of argv) {
    const [flag, value] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const positive = () => {
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed <= 0) fail(`${flag} needs a positive integer, got ${value}`);
      return parsed;
    };
    if (flag === '--quick') Object.assign(options, { streams: [50], tokens: 10, users: 10 });
    else if (flag === '--streams') {
      const counts = (value ?? '').split(',').filter(Boolean).map(Number);
      if (counts.length === 0 || counts.some((count) => !Number.isInteger(count) || count <= 0))
        fail(`--streams needs positive integers, e.g. --streams=1000,5000; got ${value}`);
      options.streams = counts;
    } else if (flag === '--tokens') options.tokens = positive();
    else if (flag === '--interval-ms') options.intervalMs = positive();
    else if (flag === '--users') options.users = positive();
    else if (flag === '--per-connection') options.perConnection = positive();
    else if (flag === '--gateway-core') {
      if (value !== '0' && value !== '1') fail(`--gateway-core takes 0 (with the stack) or 1 (with the clients)`);
      options.gatewayCore = Number(value);
    } else if (flag === '--modes') {
      const modes = (value ?? '').split(',').filter(Boolean);
      if (modes.length === 0 || modes.some((mode) => mode !== 'direct' && mode !== 'gateway'))
        fail(`--modes takes direct and/or gateway, got ${value}`);
      options.modes = modes as Mode[];
    } else if (flag === '--cpu-prof')
      options.cpuProfileDir = value || path.join(REPO, '.data', 'bench-profiles', new Date().toISOString());
    else if (flag === '--no-pin') options.pin = false;
    else fail(`unknown option ${arg} (see the top of test/bench/subscriptions/bench.ts)`);
  }
  return options;
}

/** The soft open-file limit of processes started from here (children inherit it). */
export function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
}

/**
 * Why `streams` cannot run in `mode` under this file-descriptor limit, or
 * undefined. Through the gateway, its process holds two sockets per stream
 * (the client's and its own upstream one); the client and the subgraph hold one.
 */
export function descriptorProblem(
  mode: Mode,
  streams: number,
  perConnection: number,
  limit: number,
): string | undefined {
  const slack = 200;
  const sockets = Math.ceil(streams / perConnection);
  const busiest = mode === 'gateway' ? sockets + streams : streams;
  if (busiest + slack <= limit) return undefined;
  const who =
    mode === 'gateway'
      ? 'the gateway process (a client socket per connection, an upstream socket per stream)'
      : 'the subgraph process';
  return (
    `${streams} streams ${mode === 'gateway' ? 'through the gateway' : 'direct'} need about ${busiest + slack} ` +
    `open files in ${who}, but \`ulimit -n\` is ${limit}: raise it (\`ulimit -n ${2 * (busiest + slack)}\`, ` +
    `or LimitNOFILE / --ulimit nofile for a service or container) and rerun, or multiplex with --per-connection=2`
  );
}
