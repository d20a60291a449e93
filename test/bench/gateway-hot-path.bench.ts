/**
 * Micro-benchmark of the gateway's hot path: what one request costs the
 * gateway process, over two tiny in-process subgraphs (the foreign stack's
 * catalog and reviews, no database), so the gateway's own work dominates.
 *
 * Each variant runs in its own child process (`process.cpuUsage()` deltas are
 * the gateway's alone); the subgraphs and the load generator share this
 * process. Per variant and round: N sequential requests (wall-clock p50, CPU
 * µs/request) then M requests at concurrency C (p50, requests/s, CPU
 * µs/request, subgraph fetches per request). Rounds are interleaved across
 * variants; medians over rounds are printed.
 *
 * Variants: the working tree with in-flight deduplication on and off, plus
 * `--rev <git rev>` (repeatable): that revision's `gateway/src` (extracted with
 * `git archive` into a temp dir, run against today's node_modules), so a
 * before/after is measured in the same run.
 *
 *   npm run bench:hot-path
 *   npm run bench:hot-path -- --rev 4811e27 --rounds 5
 *   npm run bench:hot-path -- --cpu-prof   (writes .cpuprofile per variant, prints the top self-time functions)
 *   BENCH_SEQUENTIAL=500 BENCH_CONCURRENT=3000 BENCH_CONCURRENCY=32 …
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RunningSubgraph } from '@supergraph/kit';
import { generateInternalKeyPair, importInternalSigningKey, importInternalVerifyKey } from '@supergraph/platform';
import type * as GatewayPackage from '@supergraph/gateway';
import { composeForeignSupergraph, startCatalogAndReviews } from '../e2e/foreign-stack.ts';

const RERUN = 'npm run bench:hot-path -- [--rev <git rev>]… [--rounds 3] [--cpu-prof]';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SELF = fileURLToPath(import.meta.url);

/** Two subgraph fetches per request: the catalog's root field, then reviews' `_entities`. */
const QUERY = '{ products { id name reviews { stars body } } }';

const BODY = JSON.stringify({ query: QUERY });

/** A gateway revision's `src/index.ts`, loaded by path. */
type GatewayModule = typeof GatewayPackage;

interface ServeMessage {
  gatewayIndex: string;
  supergraphSdl: string;
  privateKeyPem: string;
  subgraphUrls: Record<string, string>;
  dedup: boolean;
}

/** Child: one gateway; answers `cpu` with its own `process.cpuUsage()` and RSS. */
async function serveGateway(): Promise<void> {
  const options = await new Promise<ServeMessage>((resolve) => process.once('message', resolve));
  const { startGateway } = (await import(pathToFileURL(options.gatewayIndex).href)) as GatewayModule;
  const gateway = await startGateway(
    {
      supergraphSdl: options.supergraphSdl,
      internalTokenKey: await importInternalSigningKey(options.privateKeyPem),
      subgraphUrls: options.subgraphUrls,
      production: true,
      // Older revisions ignore it.
      subgraphDedup: options.dedup,
    },
    0,
  );
  process.on('message', (message: string) => {
    if (message === 'cpu') process.send?.({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
    if (message === 'stop') void gateway.stop().then(() => process.exit(0));
  });
  process.send?.({ url: gateway.url });
}

interface Variant {
  name: string;
  gatewayIndex: string;
  dedup: boolean;
  child?: ChildProcess;
  url?: string;
}

interface Sample {
  seqP50: number;
  seqCpu: number;
  concP50: number;
  rps: number;
  concCpu: number;
  fetchesPerRequest: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rounds = Number(valueOf(args, '--rounds') ?? 3);
  const sequential = Number(process.env['BENCH_SEQUENTIAL'] ?? 400);
  const concurrent = Number(process.env['BENCH_CONCURRENT'] ?? 2000);
  const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
  const cpuProf = args.includes('--cpu-prof');
  const revs = args.flatMap((arg, index) => (args[index - 1] === '--rev' ? [arg] : []));
  const only = valueOf(args, '--only');

  const internal = generateInternalKeyPair();
  const verifyKey = await importInternalVerifyKey(internal.publicKeyPem);
  const subgraphFetches = { count: 0 };
  const subgraphs = await startSubgraphs(verifyKey, subgraphFetches);
  const temps: string[] = [];
  const variants: Variant[] = [
    { name: 'working tree, dedup on', gatewayIndex: path.join(root, 'gateway/src/index.ts'), dedup: true },
    { name: 'working tree, dedup off', gatewayIndex: path.join(root, 'gateway/src/index.ts'), dedup: false },
    ...revs.map((rev) => {
      const dir = extractGateway(rev);
      temps.push(dir);
      return { name: `gateway @ ${rev}`, gatewayIndex: path.join(dir, 'gateway/src/index.ts'), dedup: false };
    }),
  ].filter((variant) => !only || variant.name.includes(only));
  const profileDir = cpuProf ? mkdtempSync(path.join(os.tmpdir(), 'gateway-hot-path-prof-')) : undefined;

  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const samples = new Map<string, Sample[]>(variants.map((variant) => [variant.name, []]));
  try {
    for (const [index, variant] of variants.entries()) {
      const execArgv = profileDir
        ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=variant-${index}.cpuprofile`]
        : [];
      variant.child = fork(SELF, ['--serve-gateway'], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      variant.child.send({
        gatewayIndex: variant.gatewayIndex,
        supergraphSdl: composeForeignSupergraph(),
        privateKeyPem: internal.privateKeyPem,
        subgraphUrls: {
          catalog: subgraphs.catalog.url,
          reviews: subgraphs.reviews.url,
          ledger: 'http://127.0.0.1:9/graphql',
        },
        dedup: variant.dedup,
      } satisfies ServeMessage);
      const url = await nextMessage<{ url: string }>(variant.child).then((message) => message.url);
      variant.url = url;
      const expected = JSON.stringify({
        data: {
          products: [
            { id: 'p1', name: 'Quokka plush', reviews: [{ stars: 5, body: 'Smiles back' }] },
            { id: 'p2', name: 'Wombat mug', reviews: [] },
          ],
        },
      });
      const answer = await post(agent, url);
      if (answer.trim() !== expected) throw new Error(`${variant.name} answered ${answer}`);
      for (let warm = 0; warm < 300; warm++) await post(agent, url);
    }
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        const child = variant.child!;
        const url = variant.url!;
        const cpu0 = await cpuOf(child);
        const seqTimes: number[] = [];
        for (let i = 0; i < sequential; i++) {
          const start = performance.now();
          await post(agent, url);
          seqTimes.push(performance.now() - start);
        }
        const cpu1 = await cpuOf(child);
        const fetches0 = subgraphFetches.count;
        const concTimes: number[] = [];
        let next = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next++ < concurrent) {
              const start = performance.now();
              await post(agent, url);
              concTimes.push(performance.now() - start);
            }
          }),
        );
        const elapsed = performance.now() - started;
        const cpu2 = await cpuOf(child);
        samples.get(variant.name)!.push({
          seqP50: median(seqTimes),
          seqCpu: (cpu1 - cpu0) / sequential,
          concP50: median(concTimes),
          rps: (concurrent / elapsed) * 1000,
          concCpu: (cpu2 - cpu1) / concurrent,
          fetchesPerRequest: (subgraphFetches.count - fetches0) / concurrent,
        });
      }
    }
    const rss = new Map<string, number>();
    for (const variant of variants) rss.set(variant.name, (await usageOf(variant.child!)).rss);

    console.log(
      `\nGateway hot path: ${QUERY}\n${sequential} sequential + ${concurrent} at concurrency ${concurrency}, ` +
        `median of ${rounds} interleaved rounds, node ${process.version}, ${os.cpus().length} CPUs\n`,
    );
    const rows = variants.map((variant) => {
      const list = samples.get(variant.name)!;
      const pick = (key: keyof Sample) => median(list.map((sample) => sample[key]));
      return {
        variant: variant.name,
        'seq p50 ms': pick('seqP50').toFixed(2),
        'seq CPU µs/req': pick('seqCpu').toFixed(0),
        'conc p50 ms': pick('concP50').toFixed(2),
        'conc req/s': pick('rps').toFixed(0),
        'conc CPU µs/req': pick('concCpu').toFixed(0),
        'subgraph fetches/req': pick('fetchesPerRequest').toFixed(2),
        'RSS MB': ((rss.get(variant.name) ?? 0) / 1024 / 1024).toFixed(0),
      };
    });
    console.table(rows);
    console.log(`rerun: ${RERUN}`);
  } finally {
    agent.destroy();
    for (const variant of variants) {
      if (!variant.child) continue;
      const exited = new Promise((resolve) => variant.child!.once('exit', resolve));
      variant.child.send('stop');
      await exited;
    }
    await subgraphs.catalog.stop();
    await subgraphs.reviews.stop();
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  }
  if (profileDir) {
    for (const [index, variant] of variants.entries()) {
      const file = readdirSync(profileDir).find((name) => name === `variant-${index}.cpuprofile`);
      if (!file) continue;
      console.log(`\n${variant.name}: ${path.join(profileDir, file)}`);
      printTopSelfTime(path.join(profileDir, file), 25);
    }
  }
}

/** `gateway/` of `rev`, beside a `node_modules` link to today's, so `@supergraph/*` and Apollo resolve. */
function extractGateway(rev: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `gateway-${rev.replace(/\W/g, '_')}-`));
  const archive = execFileSync('git', ['-C', root, 'archive', rev, 'gateway'], { maxBuffer: 64 * 1024 * 1024 });
  writeFileSync(path.join(dir, 'gateway.tar'), archive);
  execFileSync('tar', ['-xf', path.join(dir, 'gateway.tar'), '-C', dir]);
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

async function startSubgraphs(
  verifyKey: Awaited<ReturnType<typeof importInternalVerifyKey>>,
  fetches: { count: number },
): Promise<{ catalog: RunningSubgraph; reviews: RunningSubgraph }> {
  const { catalog, reviews: reviewsSubgraph } = await startCatalogAndReviews(verifyKey);
  for (const subgraph of [catalog, reviewsSubgraph]) subgraph.http.on('request', () => fetches.count++);
  return { catalog, reviews: reviewsSubgraph };
}

function post(agent: http.Agent, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(BODY);
  });
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as T));
    child.once('exit', (code) => reject(new Error(`gateway child exited with ${code}`)));
  });
}

async function usageOf(child: ChildProcess): Promise<{ cpu: NodeJS.CpuUsage; rss: number }> {
  const answer = nextMessage<{ cpu: NodeJS.CpuUsage; rss: number }>(child);
  child.send('cpu');
  return answer;
}

/** The child's user + system CPU so far, µs. */
async function cpuOf(child: ChildProcess): Promise<number> {
  const { cpu } = await usageOf(child);
  return cpu.user + cpu.system;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function valueOf(args: string[], flag: string): string | undefined {
  const index = args.indexOf(flag);
  return index >= 0 ? args[index + 1] : undefined;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per function (summed over call sites) from a V8 `.cpuprofile`, top `limit` printed. */
function printTopSelfTime(file: string, limit: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const [index, id] of profile.samples.entries()) {
    const delta = profile.timeDeltas[index] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const where = frame.url.replace(pathToFileURL(root).href, '').replace(/^.*node_modules\//, '');
    const key = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
    const owner = frame.url.includes('node_modules/')
      ? (/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url)?.[1] ?? 'node_modules')
      : frame.url.startsWith('node:')
        ? frame.url.replace(/^node:(?:internal\/)?(?:deps\/)?/, 'node:').split('/')[0]!
        : frame.url.startsWith(pathToFileURL(root).href)
          ? frame.url.replace(pathToFileURL(root).href + '/', '').split('/')[0]!
          : frame.functionName.startsWith('(')
            ? frame.functionName
            : 'native/other';
    byPackage.set(owner, (byPackage.get(owner) ?? 0) + delta);
    total += delta;
  }
  const idle = [...selfUs].filter(([key]) => key.startsWith('(idle)')).reduce((sum, [, us]) => sum + us, 0);
  const busy = total - idle;
  console.log(`busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled`);
  const top = [...selfUs]
    .filter(([key]) => !key.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit);
  const packages = [...byPackage].filter(([key]) => key !== '(idle)').sort((a, b) => b[1] - a[1]);
  console.log(packages.map(([key, us]) => `${key} ${((us / busy) * 100).toFixed(1)} %`).join(' | '));
  for (const [key, us] of top) console.log(`${((us / busy) * 100).toFixed(1).padStart(5)} %  ${key}`);
}

if (process.argv.includes('--serve-gateway')) await serveGateway();
else await main();
