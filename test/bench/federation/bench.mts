/**
 * `npm run bench:gateway`: our gateway, stock `@apollo/gateway` + Apollo
 * Server 5 and Hive Gateway side by side on The Guild's federation benchmark
 * (four subgraphs, TestQuery at 50 connections; a one-subgraph query at 10,
 * against the subgraph called directly). Each gateway runs in its own process
 * pinned to core 1; subgraphs and autocannon share core 0. Rounds interleave
 * the gateways. Every gateway must return the same data as the others, and
 * every response under load the same bytes as its first: a fast wrong answer
 * fails the run (exit 1). Installs its own dependencies (this folder's
 * package.json, not a workspace) on first run. Prints a markdown table and the
 * command to rerun; docs/benchmarks.md holds the checked-in results.
 *
 *   npm run bench:gateway                       2 rounds × 10 s per gateway and query
 *   npm run bench:gateway -- --quick            1 round × 3 s (smoke test)
 *   npm run bench:gateway -- --duration=20 --rounds=3 --warmup=5 --gateways=ours,stock
 *     (gateways: ours, ours-256mb (heap capped), ours-apollo (@apollo/gateway's executor), stock, hive; default all)
 *   npm run bench:gateway -- --queries=TestQuery   only some queries (TestQuery, SmallQuery)
 *   npm run bench:gateway -- --cpu-prof[=dir]   profile our gateway (.data/bench-profiles/… by default)
 *   BENCH_OURS_OPTIONS='{…}' / BENCH_HIVE_OPTIONS='{…}'   extra options for ours / Hive (JSON)
 *   BENCH_OURS_NODE_FLAGS='--max-semi-space-size=16'    extra node flags for ours
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from './load.mts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../../..');
const GATEWAYS = {
  ours: { label: 'ours (`startGateway`, production, anonymous)', script: 'gateways/ours.mts', args: [], nodeFlags: [] },
  // Ours with V8's heap capped the way a memory-limited container would run it: what memory costs in CPU.
  'ours-256mb': {
    label: 'ours, heap capped (`--max-old-space-size=256 --max-semi-space-size=32`)',
    script: 'gateways/ours.mts',
    args: [],
    nodeFlags: ['--max-old-space-size=256', '--max-semi-space-size=32'],
  },
  // Ours with `executor: 'apollo'`: what our own plan executor is worth, measured in the same run.
  'ours-apollo': {
    label: "ours with `@apollo/gateway`'s executor",
    script: 'gateways/ours.mts',
    args: ['--executor=apollo'],
    nodeFlags: [],
  },
  stock: {
    label: 'stock `@apollo/gateway` 2.14 + Apollo Server 5',
    script: 'gateways/stock.mts',
    args: [],
    nodeFlags: [],
  },
  hive: { label: 'Hive Gateway 2.15 (Node)', script: 'gateways/hive.mts', args: [], nodeFlags: [] },
} as const;
type GatewayName = keyof typeof GATEWAYS;
const LOAD_CORE = 0;
const GATEWAY_CORE = 1;

interface Options {
  durationSeconds: number;
  rounds: number;
  warmupSeconds: number;
  gateways: GatewayName[];
  queries: string[];
  cpuProfileDir: string | undefined;
  args: string[];
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    durationSeconds: 10,
    rounds: 2,
    warmupSeconds: 3,
    gateways: ['ours', 'ours-256mb', 'ours-apollo', 'stock', 'hive'],
    queries: ['TestQuery', 'SmallQuery'],
    cpuProfileDir: undefined,
    args: argv,
  };
  for (const arg of argv) {
    const [flag, value] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const number = () => {
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed <= 0) fail(`${flag} needs a positive number, got ${value}`);
      return parsed;
    };
    if (flag === '--quick') Object.assign(options, { durationSeconds: 3, rounds: 1, warmupSeconds: 1 });
    else if (flag === '--duration') options.durationSeconds = number();
    else if (flag === '--rounds') options.rounds = Math.round(number());
    else if (flag === '--warmup') options.warmupSeconds = number();
    else if (flag === '--gateways') {
      const names = (value ?? '').split(',').filter(Boolean);
      for (const name of names)
        if (!(name in GATEWAYS)) fail(`unknown gateway ${name} (${Object.keys(GATEWAYS).join(', ')})`);
      if (names.length === 0) fail(`--gateways needs at least one of ${Object.keys(GATEWAYS).join(', ')}`);
      options.gateways = names as GatewayName[];
    } else if (flag === '--queries') {
      const names = (value ?? '').split(',').filter(Boolean);
      for (const name of names)
        if (name !== 'TestQuery' && name !== 'SmallQuery') fail(`unknown query ${name} (TestQuery, SmallQuery)`);
      if (names.length === 0) fail('--queries needs at least one of TestQuery, SmallQuery');
      options.queries = names;
    } else if (flag === '--cpu-prof')
      options.cpuProfileDir = path.resolve(
        value || path.join(REPO, '.data/bench-profiles', new Date().toISOString().replaceAll(':', '-')),
      );
    else if (flag === '--help' || flag === '-h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    } else fail(`unknown argument ${arg} (see --help)`);
  }
  return options;
}

class BenchFailure extends Error {}

function fail(message: string): never {
  throw new BenchFailure(message);
}

/** `npm install` in this folder when node_modules is missing or older than package.json + lockfile. */
function ensureInstalled(): void {
  const digest = createHash('sha256');
  for (const file of ['package.json', 'package-lock.json']) {
    const full = path.join(HERE, file);
    if (existsSync(full)) digest.update(readFileSync(full));
  }
  const wanted = digest.digest('hex');
  const stamp = path.join(HERE, 'node_modules/.bench-install-stamp');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return;
  console.log('[bench] installing the benchmark dependencies (test/bench/federation/package.json) …');
  const result = spawnSync('npm', ['install', '--prefix', HERE, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0) fail('npm install in test/bench/federation failed (see above)');
  writeFileSync(stamp, wanted);
}

function checkMachine(): void {
  if (spawnSync('taskset', ['--version']).status !== 0)
    fail('taskset not found: install util-linux (the bench pins each process to a core)');
  const cores = os.availableParallelism();
  if (cores < 2)
    fail(`needs 2 cores (gateway on core ${GATEWAY_CORE}, load on core ${LOAD_CORE}); this process may use ${cores}`);
}

const children = new Set<ChildProcess>();

/** Starts `node <script>` pinned to `core`; resolves with its READY payload. */
function startChild(
  name: string,
  core: number,
  nodeArgs: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; ready: unknown }> {
  const child = spawn('taskset', ['-c', String(core), process.execPath, ...nodeArgs], {
    cwd: HERE,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    process.stderr.write(
      chunk
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((line) => `[${name}] ${line}\n`)
        .join(''),
    );
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s`)), 60_000);
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith('READY ')) {
          clearTimeout(timer);
          resolve({ child, ready: JSON.parse(line.slice(6)) });
        } else if (line) console.log(`[${name}] ${line}`);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) before it was ready:\n${stderr}`));
    });
  });
}

async function runLoad(request: {
  url: string;
  body: string;
  connections: number;
  durationSeconds: number;
  expectBody?: string;
}): Promise<LoadResult> {
  const child = spawn('taskset', ['-c', String(LOAD_CORE), process.execPath, 'load.mts', JSON.stringify(request)], {
    cwd: HERE,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  children.delete(child);
  if (code !== 0) fail(`the load generator exited with ${code}`);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadResult;
}

async function stopAll(): Promise<void> {
  const running = [...children];
  for (const child of running) child.kill('SIGTERM');
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 10_000);
          child.on('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    ),
  );
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** User + system CPU of a process (all its threads), in ms. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Peak resident set (VmHWM), MB. */
function maxRssMbOf(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Busy and total time of one core since boot (ms), from /proc/stat. */
function coreTimesOf(core: number): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith(`cpu${core} `));
  const ticks = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: ((total - idle) * 1000) / CLOCK_TICKS, total: (total * 1000) / CLOCK_TICKS };
}

/** Waits until a process stops burning CPU (the requests cut off at the end of a run finish), max 5 s. */
async function settled(pid: number): Promise<number> {
  let last = cpuMsOf(pid);
  for (let waited = 0; waited < 5_000; waited += 250) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = cpuMsOf(pid);
    if (now - last <= 1000 / CLOCK_TICKS) return now;
    last = now;
  }
  return last;
}

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, text: await response.text() };
}

interface Target {
  name: string;
  url: string;
  pid: number | undefined;
}

interface Query {
  name: 'TestQuery' | 'SmallQuery';
  body: string;
  connections: number;
}

/**
 * Each target's answer to each query: HTTP 200, no errors, and `data`
 * serialised byte for byte the same as every other target's. Returns each
 * target's raw body, which its responses under load must then repeat.
 */
async function checkAnswers(queries: Query[], targets: Target[], direct: Target): Promise<Map<string, string>> {
  const bodies = new Map<string, string>();
  for (const query of queries) {
    const answers: Array<{ target: string; data: string }> = [];
    for (const target of query.name === 'SmallQuery' ? [...targets, direct] : targets) {
      const { status, text } = await post(target.url, query.body);
      const parsed = JSON.parse(text) as { data?: unknown; errors?: unknown };
      if (status !== 200 || parsed.errors || !parsed.data)
        fail(`${target.name} answered ${query.name} with HTTP ${status}: ${text.slice(0, 2000)}`);
      answers.push({ target: target.name, data: JSON.stringify(parsed.data) });
      bodies.set(`${target.name}:${query.name}`, text);
    }
    const [reference, ...others] = answers;
    for (const other of others) {
      if (other.data === reference!.data) continue;
      let at = 0;
      while (other.data[at] === reference!.data[at]) at++;
      fail(
        `DATA MISMATCH on ${query.name}: ${other.target} differs from ${reference!.target} at byte ${at}\n` +
          `  ${reference!.target}: …${reference!.data.slice(Math.max(0, at - 80), at + 80)}\n` +
          `  ${other.target}: …${other.data.slice(Math.max(0, at - 80), at + 80)}`,
      );
    }
    console.log(
      `[bench] ${query.name}: ${answers.map((answer) => answer.target).join(', ')} return identical data (${reference!.data.length} bytes)`,
    );
  }
  return bodies;
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  /** Share of core 1 the gateway used: well under 100 % with high latency means it was not CPU-bound, or `othersOnCore` took the rest. */
  gatewayBusy: number;
  /** Share of core 1 used by processes other than the gateway (a busy machine: numbers are then pessimistic). */
  othersOnCore: number;
  /** Share of core 0 the subgraphs and autocannon used: near 100 % means the load side, not the gateway, set the pace. */
  loadSideBusy: number;
}

async function measure(
  target: Target,
  query: Query,
  durationSeconds: number,
  expectBody: string | undefined,
  subgraphsPid: number,
): Promise<Run> {
  const gatewayBefore = target.pid ? cpuMsOf(target.pid) : 0;
  const subgraphsBefore = cpuMsOf(subgraphsPid);
  const coreBefore = coreTimesOf(GATEWAY_CORE);
  const load = await runLoad({
    url: target.url,
    body: query.body,
    connections: query.connections,
    durationSeconds,
    ...(expectBody ? { expectBody } : {}),
  });
  const coreAfter = coreTimesOf(GATEWAY_CORE);
  const gatewayAfter = target.pid ? cpuMsOf(target.pid) : 0;
  const gatewaySettled = target.pid ? await settled(target.pid) : 0;
  const subgraphsAfter = await settled(subgraphsPid);
  const coreMs = coreAfter.total - coreBefore.total;
  const problems = (['non2xx', 'errors', 'timeouts', 'mismatches'] as const).filter((key) => load[key] > 0);
  if (problems.length > 0 || load.ok === 0)
    fail(
      `WRONG ANSWERS UNDER LOAD from ${target.name} on ${query.name}: ` +
        `${problems.map((key) => `${load[key]} ${key}`).join(', ') || 'no successful response'} (of ${load.sent} sent)`,
    );
  return {
    rps: load.ok / load.seconds,
    p50: load.p50,
    p99: load.p99,
    cpuMsPerRequest: (gatewaySettled - gatewayBefore) / load.sent,
    gatewayBusy: (gatewayAfter - gatewayBefore) / coreMs,
    othersOnCore: Math.max(0, coreAfter.busy - coreBefore.busy - (gatewayAfter - gatewayBefore)) / coreMs,
    loadSideBusy: (subgraphsAfter - subgraphsBefore + load.cpuMs) / (load.seconds * 1000),
  };
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const ms = (value: number) => `${fixed(value, value < 10 ? 2 : value < 100 ? 1 : 0)} ms`;

function summarise(runs: Run[]): Run {
  return {
    rps: mean(runs.map((run) => run.rps)),
    p50: mean(runs.map((run) => run.p50)),
    p99: mean(runs.map((run) => run.p99)),
    cpuMsPerRequest: mean(runs.map((run) => run.cpuMsPerRequest)),
    gatewayBusy: mean(runs.map((run) => run.gatewayBusy)),
    othersOnCore: mean(runs.map((run) => run.othersOnCore)),
    loadSideBusy: mean(runs.map((run) => run.loadSideBusy)),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  checkMachine();
  ensureInstalled();
  const { TEST_QUERY, SMALL_QUERY } = await import('./queries.mts');
  const { composeSupergraph } = await import('./compose.mts');
  const allQueries: Query[] = [
    { name: 'TestQuery', body: JSON.stringify({ query: TEST_QUERY }), connections: 50 },
    { name: 'SmallQuery', body: JSON.stringify({ query: SMALL_QUERY }), connections: 10 },
  ];
  const queries = allQueries.filter((query) => options.queries.includes(query.name));

  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-gateway-'));
  try {
    const subgraphs = await startChild('subgraphs', LOAD_CORE, ['serve-subgraphs.mts']);
    const subgraphUrls = subgraphs.ready as Record<string, string>;
    const supergraphPath = path.join(work, 'supergraph.graphql');
    writeFileSync(supergraphPath, composeSupergraph(subgraphUrls));

    const targets: Target[] = [];
    const skipped: string[] = [];
    for (const name of options.gateways) {
      const profile = name === 'ours' && options.cpuProfileDir;
      if (profile) mkdirSync(options.cpuProfileDir!, { recursive: true });
      try {
        const started = await startChild(name, GATEWAY_CORE, [
          ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
          ...GATEWAYS[name].nodeFlags,
          ...(name === 'ours' ? (process.env['BENCH_OURS_NODE_FLAGS'] ?? '').split(' ').filter(Boolean) : []),
          GATEWAYS[name].script,
          supergraphPath,
          ...GATEWAYS[name].args,
        ]);
        targets.push({ name, url: started.ready as string, pid: started.child.pid });
      } catch (error) {
        if (name === 'ours') throw error;
        // "Benchmark what can be": a peer that cannot start is reported, not fatal.
        console.error(`[bench] ${name} could not start; benchmarking without it:\n${String(error)}`);
        skipped.push(`${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
    }
    const direct: Target = { name: 'subgraph directly', url: subgraphUrls['products']!, pid: undefined };

    const bodies = await checkAnswers(queries, targets, direct);

    console.log(`[bench] warm-up: ${options.warmupSeconds} s per gateway and query`);
    for (const target of targets)
      for (const query of queries)
        await runLoad({
          url: target.url,
          body: query.body,
          connections: query.connections,
          durationSeconds: options.warmupSeconds,
        });

    const runs = new Map<string, Run[]>();
    const record = (key: string, run: Run) => runs.set(key, [...(runs.get(key) ?? []), run]);
    for (let round = 0; round < options.rounds; round++) {
      // Rotate the order each round, so no gateway always runs first (or after the same peer).
      const order = targets.map((_, index) => targets[(index + round) % targets.length]!);
      for (const query of queries) {
        const inRound = query.name === 'SmallQuery' ? [direct, ...order] : order;
        for (const target of inRound) {
          const expectBody = target.pid ? bodies.get(`${target.name}:${query.name}`) : undefined;
          const run = await measure(target, query, options.durationSeconds, expectBody, subgraphs.child.pid!);
          record(`${target.name}:${query.name}`, run);
          console.log(
            `[bench] round ${round + 1} ${query.name.padEnd(10)} ${target.name.padEnd(17)} ${fixed(run.rps).padStart(8)} rps  ` +
              `p50 ${ms(run.p50)}  p99 ${ms(run.p99)}  ${target.pid ? `cpu ${fixed(run.cpuMsPerRequest, 2)} ms/req  ` : ''}` +
              `core 0 busy ${fixed(run.loadSideBusy * 100, 0)} %  core 1: gateway ${fixed(run.gatewayBusy * 100, 0)} %, others ${fixed(run.othersOnCore * 100, 0)} %`,
          );
        }
      }
    }
    const maxRss = new Map(targets.map((target) => [target.name, maxRssMbOf(target.pid!)]));
    console.log(report(options, targets, runs, maxRss, skipped));
  } finally {
    await stopAll();
    rmSync(work, { recursive: true, force: true });
    if (options.cpuProfileDir) console.log(`[bench] CPU profile of ours: ${options.cpuProfileDir}/*.cpuprofile`);
  }
}

function report(
  options: Options,
  targets: Target[],
  runs: Map<string, Run[]>,
  maxRss: Map<string, number>,
  skipped: string[],
): string {
  const of = (name: string, query: Query['name']) => summarise(runs.get(`${name}:${query}`) ?? []);
  const direct = of('subgraph directly', 'SmallQuery');
  const lines: string[] = [];
  const runsText = `${options.rounds} round${options.rounds === 1 ? '' : 's'} × ${options.durationSeconds} s, means`;
  lines.push('', `### TestQuery, 50 connections (${runsText})`, '');
  lines.push(
    '| gateway | RPS | p50 | p99 | gateway CPU per request | max RSS | core 1: gateway / other processes | core 0 (subgraphs + load) busy |',
  );
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const target of targets) {
    const run = of(target.name, 'TestQuery');
    lines.push(
      `| ${GATEWAYS[target.name as GatewayName].label} | ${fixed(run.rps)} | ${ms(run.p50)} | ${ms(run.p99)} | ` +
        `${fixed(run.cpuMsPerRequest, 2)} ms | ${fixed(maxRss.get(target.name)!, 0)} MB | ` +
        `${fixed(run.gatewayBusy * 100, 0)} % / ${fixed(run.othersOnCore * 100, 0)} % | ${fixed(run.loadSideBusy * 100, 0)} % |`,
    );
  }
  if (options.queries.includes('SmallQuery')) {
    lines.push('', `### SmallQuery (one subgraph), 10 connections (${runsText})`, '');
    lines.push('| gateway | RPS | p50 | added p50 over the subgraph | p99 | gateway CPU per request |');
    lines.push('|---|---|---|---|---|---|');
    lines.push(`| products subgraph directly | ${fixed(direct.rps)} | ${ms(direct.p50)} | – | ${ms(direct.p99)} | – |`);
    for (const target of targets) {
      const run = of(target.name, 'SmallQuery');
      lines.push(
        `| ${GATEWAYS[target.name as GatewayName].label} | ${fixed(run.rps)} | ${ms(run.p50)} | ${ms(run.p50 - direct.p50)} | ` +
          `${ms(run.p99)} | ${fixed(run.cpuMsPerRequest, 2)} ms |`,
      );
    }
  }
  if (targets.length > 1) {
    lines.push('', '### Ratios (row gateway ÷ column peer; RPS higher is better, the rest lower)', '');
    lines.push(
      '| ratio | TestQuery RPS | TestQuery p50 | TestQuery CPU/req | SmallQuery RPS | SmallQuery added p50 | SmallQuery CPU/req | max RSS |',
    );
    lines.push('|---|---|---|---|---|---|---|---|');
    for (let i = 0; i < targets.length; i++)
      for (let j = i + 1; j < targets.length; j++) {
        const [a, b] = [targets[i]!.name, targets[j]!.name];
        const ratio = (x: number, y: number) => fixed(x / y, 2);
        const [ta, tb, sa, sb] = [of(a, 'TestQuery'), of(b, 'TestQuery'), of(a, 'SmallQuery'), of(b, 'SmallQuery')];
        lines.push(
          `| ${a} / ${b} | ${ratio(ta.rps, tb.rps)} | ${ratio(ta.p50, tb.p50)} | ${ratio(ta.cpuMsPerRequest, tb.cpuMsPerRequest)} | ` +
            `${ratio(sa.rps, sb.rps)} | ${ratio(sa.p50 - direct.p50, sb.p50 - direct.p50)} | ` +
            `${ratio(sa.cpuMsPerRequest, sb.cpuMsPerRequest)} | ${ratio(maxRss.get(a)!, maxRss.get(b)!)} |`,
        );
      }
  }
  for (const line of skipped) lines.push('', `Not measured: ${line}`);
  lines.push(
    '',
    `Every gateway returned byte-identical data for both queries, and every response under load repeated its first.`,
    `${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ` +
      `${fixed(os.totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}; gateways on core ${GATEWAY_CORE}, subgraphs and autocannon on core ${LOAD_CORE}.`,
    '',
    `Rerun: \`npm run bench:gateway${options.args.length > 0 ? ` -- ${options.args.join(' ')}` : ''}\``,
    '',
  );
  return lines.join('\n');
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`[bench] ${signal}: stopping every process it started`);
    void stopAll().finally(() => process.exit(130));
  });
// Last resort (a crash between the finally and exit): no child outlives the bench.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

main().catch((error: unknown) => {
  const loud = error instanceof BenchFailure;
  console.error(loud ? `\n!!!!!!!! BENCH FAILED: ${error.message}\n` : error);
  process.exitCode = 1;
});
