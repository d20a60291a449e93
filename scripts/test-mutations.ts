/**
 * Mutation check: do the tests catch the bugs they exist to catch?
 *
 * Each mutation is one exact text replacement in one source file (a known-bad
 * change: a dropped check, a cache turned off). The needle must occur exactly
 * once, so a refactor that moves the code fails this script loudly instead of
 * letting the mutation "survive" unapplied. For each one: patch the file, run
 * only the vitest files that should fail, restore the file, record which tests
 * failed. Exit 1 if any mutation survives.
 *
 * Tests run with this process's environment: under DATABASE_URL/REDIS_URL
 * they use the real services, otherwise PGlite and the in-process Redis.
 *
 * @example
 * npm run test:mutations              # all of them
 * npm run test:mutations -- M4 M9     # a subset, by id
 * npm run test:mutations -- --no-baseline M1
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface Mutation {
  id: string;
  title: string;
  /** Source file, relative to the repository root. */
  file: string;
  find: string;
  replace: string;
  /** The vitest files expected to fail under the mutation. */
  tests: string[];
}

const AUTHENTICATE = 'gateway/src/authenticate.ts';
const GATEWAY_SERVER = 'gateway/src/server.ts';
const DATA_SOURCE = 'gateway/src/subgraph-data-source.ts';
const ACCESS_TOKEN_TEST = 'gateway/src/access-token.test.ts';
const CREDENTIAL_RESOLVER_TEST = 'gateway/src/credential-resolver.test.ts';
const GATEWAY_SERVER_TEST = 'gateway/src/server.test.ts';
const EDGE_E2E = 'test/e2e/gateway-edge.e2e.ts';
const AUTH_EDGE_E2E = 'test/e2e/auth-at-the-edge.e2e.ts';
const FOREIGN_E2E = 'test/e2e/foreign-supergraph.e2e.ts';

const MUTATIONS: Mutation[] = [
  {
    id: 'M1',
    title: "JWTs: any algorithm (drop algorithms: ['EdDSA'])",
    file: AUTHENTICATE,
    find: "        algorithms: ['EdDSA'],\n",
    replace: '',
    tests: [ACCESS_TOKEN_TEST],
  },
  {
    id: 'M2',
    title: 'no client IP forwarded to subgraphs',
    file: GATEWAY_SERVER,
    find: '        clientIp: clientAddress(req, trustedProxyHops),\n',
    replace: '',
    tests: [EDGE_E2E],
  },
  {
    id: 'M3',
    title: 'X-Forwarded-For read from the left (the client-written end)',
    file: 'gateway/src/client-address.ts',
    find: 'hops[Math.max(0, hops.length - 1 - trustedProxyHops)]',
    replace: 'hops[Math.min(hops.length - 1, trustedProxyHops - 1)]',
    tests: [EDGE_E2E, 'gateway/src/client-address.test.ts'],
  },
  {
    id: 'M4',
    title: 'no negative credential cache',
    file: AUTHENTICATE,
    find: 'cache.set(key, { identity, lookedUpAt }, { ttl: identity ? ttl : negativeTtl });',
    replace: 'if (identity) cache.set(key, { identity, lookedUpAt }, { ttl });',
    tests: [CREDENTIAL_RESOLVER_TEST, AUTH_EDGE_E2E],
  },
  {
    id: 'M5',
    title: 'no shared in-flight credential lookup',
    file: AUTHENTICATE,
    find: '        let pending = inFlight.get(key);\n',
    replace: '        let pending: Promise<Identity | null> | undefined;\n',
    tests: [CREDENTIAL_RESOLVER_TEST],
  },
  {
    id: 'M6',
    title: 'credential endpoint unreachable → anonymous (null)',
    file: AUTHENTICATE,
    find:
      "      console.error('[gateway] credential lookup failed', error instanceof Error ? error.message : error);\n" +
      "      throw new HttpError(503, 'SERVICE_UNAVAILABLE', 'Authentication service unavailable', { 'retry-after': '1' });",
    replace:
      "      console.error('[gateway] credential lookup failed', error instanceof Error ? error.message : error);\n" +
      '      return null;',
    tests: [CREDENTIAL_RESOLVER_TEST, FOREIGN_E2E],
  },
  {
    id: 'M7',
    title: 'JWKS refetch cooldown 0',
    file: AUTHENTICATE,
    find: 'cooldownDuration: 30_000',
    replace: 'cooldownDuration: 0',
    tests: [ACCESS_TOKEN_TEST],
  },
  {
    id: 'M8',
    title: 'JWKS cache max age 0',
    file: AUTHENTICATE,
    find: 'cacheMaxAge: 10 * 60_000',
    replace: 'cacheMaxAge: 0',
    tests: [ACCESS_TOKEN_TEST],
  },
  {
    id: 'M9',
    title: 'no positive credential cache',
    file: AUTHENTICATE,
    find: 'cache.set(key, { identity, lookedUpAt }, { ttl: identity ? ttl : negativeTtl });',
    replace: 'if (!identity) cache.set(key, { identity, lookedUpAt }, { ttl: negativeTtl });',
    tests: [CREDENTIAL_RESOLVER_TEST, AUTH_EDGE_E2E],
  },
  {
    id: 'M10',
    title: 'no valueCompletion plugin',
    file: GATEWAY_SERVER,
    find: '      valueCompletionPlugin(),\n',
    replace: '',
    tests: [FOREIGN_E2E],
  },
  {
    id: 'M11',
    title: 'no one-graph fallback in credentialSubgraphOf',
    file: GATEWAY_SERVER,
    find: 'fieldGraphs[0] ?? (typeGraphs.length === 1 ? typeGraphs[0] : undefined)',
    replace: 'fieldGraphs[0] ?? (typeGraphs.length === 0 ? typeGraphs[0] : undefined)',
    tests: [GATEWAY_SERVER_TEST, FOREIGN_E2E],
  },
  {
    id: 'M12',
    title: 'valueCompletion kept in error extensions',
    file: GATEWAY_SERVER,
    find: "'http', 'valueCompletion']",
    replace: "'http']",
    tests: [GATEWAY_SERVER_TEST],
  },
  {
    id: 'M13',
    // One cached token per identity, whatever its audience: the first subgraph's token goes to every subgraph.
    title: 'one internal token for all subgraphs',
    file: 'gateway/src/internal-token-cache.ts',
    find: 'const cacheKey = `${audience}\\n${identityFingerprint(identity)}`;',
    replace: 'const cacheKey = identityFingerprint(identity);',
    tests: [FOREIGN_E2E],
  },
  {
    id: 'M14',
    title: 'no subgraph timeout',
    file: DATA_SOURCE,
    find: 'this.#http = createSubgraphHttpClient(options.url, options.timeoutMs);',
    replace: 'this.#http = createSubgraphHttpClient(options.url, 3_600_000);',
    tests: [EDGE_E2E],
  },
  {
    id: 'M15',
    title: 'PGlite: connections skip the FIFO lock',
    file: 'db/src/pglite-dialect.ts',
    find: '    const release = await this.#lock.acquire();\n',
    replace: '    const release = () => {};\n',
    tests: ['db/src/database.int.test.ts', 'db/src/pglite-dialect.int.test.ts'],
  },
  {
    id: 'M16',
    title: 'subgraph: no internal token → anonymous instead of 401',
    file: 'subgraphs/kit/src/subgraph.ts',
    find: "  if (!token) throw new HttpError(401, 'UNAUTHENTICATED', 'This service only accepts requests from the gateway');\n",
    replace:
      "  if (!token) return { userId: null, roles: [], scopes: [], tier: 'free' as const, via: 'anonymous' as const };\n",
    tests: ['subgraphs/kit/src/subgraph.test.ts', 'subgraphs/auth/src/register-login.int.test.ts'],
  },
  {
    id: 'M17',
    title: 'internal tokens: no audience check',
    file: 'platform/src/internal-token.ts',
    find: "    audience,\n    typ: 'internal+jwt',\n",
    replace: "    typ: 'internal+jwt',\n",
    tests: ['platform/src/internal-token.test.ts'],
  },
  {
    id: 'M18',
    title: 'rate limit admits max + 1',
    file: 'platform/src/rate-counter.ts',
    find: 'if count + cost <= max then',
    replace: 'if count + cost <= max + 1 then',
    tests: ['subgraphs/kit/src/rate-limit.int.test.ts'],
  },
  {
    id: 'M19',
    title: 'production does not require REDIS_URL',
    file: 'subgraphs/kit/src/service.ts',
    find: "for (const name of ['DATABASE_URL', 'REDIS_URL', 'INTERNAL_TOKEN_PUBLIC_KEY'])",
    replace: "for (const name of ['DATABASE_URL', 'INTERNAL_TOKEN_PUBLIC_KEY'])",
    tests: ['test/service-runner.int.test.ts'],
  },
  {
    id: 'M20',
    title: 'refresh tokens: no reuse detection',
    file: 'subgraphs/auth/src/sessions.service.ts',
    find: '    if (known) await revokeFamily(trx, known.family_id, known.session_id);\n',
    replace: '',
    tests: ['subgraphs/auth/src/sessions.int.test.ts'],
  },
  {
    id: 'M21',
    title: 'gateway ignores revocations of access tokens',
    file: AUTHENTICATE,
    find: '    if (options.revocations && isRevoked(payload, options.revocations))\n',
    replace: '    if (options.revocations && isRevoked(payload, options.revocations) && false)\n',
    tests: ['test/e2e/revocation.e2e.ts'],
  },
  {
    id: 'M22',
    title: 'no maximum access-token age',
    file: AUTHENTICATE,
    find: '    if ((payload.exp as number) - (payload.iat as number) > maxAgeSeconds)\n',
    replace: '    if ((payload.exp as number) - (payload.iat as number) > Number.POSITIVE_INFINITY)\n',
    tests: ['test/e2e/revocation.e2e.ts'],
  },
  {
    id: 'M23',
    title: 'operation depth not limited',
    file: 'gateway/src/operation-limits.ts',
    find: "      if (measured.depth > limits.maxDepth) throw breach('depth', measured.depth);\n",
    replace: '',
    tests: ['gateway/src/operation-limits.test.ts', 'test/e2e/operation-limits.e2e.ts'],
  },
  {
    id: 'M24',
    title: 'safelist lets free-form operations through',
    file: 'gateway/src/persisted-documents.ts',
    find: "    return operation ? { kind: 'manifest', operation } : notInList(mode);\n",
    replace: "    return operation ? { kind: 'manifest', operation } : { kind: 'pass' };\n",
    tests: ['gateway/src/persisted-documents.test.ts', 'test/e2e/persisted-queries.e2e.ts'],
  },
  {
    id: 'M25',
    title: 'NUL bytes reach resolvers',
    file: 'subgraphs/kit/src/subgraph.ts',
    find: '    rejectNulArguments(\n      buildSubgraphSchema([\n        { typeDefs: options.typeDefs, resolvers: options.resolvers as GraphQLResolverMap<TContext> },\n      ]),\n    ),\n',
    replace:
      '    buildSubgraphSchema([\n      { typeDefs: options.typeDefs, resolvers: options.resolvers as GraphQLResolverMap<TContext> },\n    ]),\n',
    tests: ['subgraphs/auth/src/nul-input.int.test.ts'],
  },
];

const ROOT = path.resolve(import.meta.dirname, '..');
const VITEST = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
const RUN_TIMEOUT_MS = 10 * 60_000;

interface Patch {
  file: string;
  original: string;
  mutated: string;
  /** The mutated text with some context, to undo the patch even if someone else edited the file meanwhile. */
  mutatedRegion: string;
  originalRegion: string;
}

let activePatch: Patch | undefined;
let activeChild: ChildProcess | undefined;

function occurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) count++;
  return count;
}

/** Problems with the needles, checked for every selected mutation before anything is patched. */
function checkNeedles(mutations: Mutation[]): string[] {
  return mutations.flatMap((mutation) => {
    const count = occurrences(readFileSync(path.join(ROOT, mutation.file), 'utf8'), mutation.find);
    return count === 1
      ? []
      : [
          `${mutation.id}: the needle occurs ${count} times in ${mutation.file} (expected once): ${JSON.stringify(mutation.find)}`,
        ];
  });
}

function apply(mutation: Mutation): void {
  const file = path.join(ROOT, mutation.file);
  const original = readFileSync(file, 'utf8');
  const at = original.indexOf(mutation.find);
  if (at === -1 || occurrences(original, mutation.find) !== 1) throw new Error(`${mutation.id}: needle not unique`);
  const end = at + mutation.find.length;
  const before = original.slice(Math.max(0, at - 200), at);
  const after = original.slice(end, end + 200);
  const mutated = original.slice(0, at) + mutation.replace + original.slice(end);
  activePatch = {
    file,
    original,
    mutated,
    mutatedRegion: before + mutation.replace + after,
    originalRegion: before + mutation.find + after,
  };
  writeFileSync(file, mutated);
}

/** Puts the patched file back; synchronous so that it also works from signal and exit handlers. */
function restore(): void {
  const patch = activePatch;
  if (!patch) return;
  activePatch = undefined;
  const current = readFileSync(patch.file, 'utf8');
  if (current === patch.mutated || current === patch.original) {
    writeFileSync(patch.file, patch.original);
    return;
  }
  // Someone edited the file while it was patched: undo only the mutation, keep their edit.
  if (occurrences(current, patch.mutatedRegion) === 1) {
    writeFileSync(
      patch.file,
      current.replace(patch.mutatedRegion, () => patch.originalRegion),
    );
    console.error(`[mutations] ${patch.file} changed while patched; undid the mutation only, kept the other edit`);
    return;
  }
  const saved = path.join(tmpdir(), `${path.basename(patch.file)}.before-mutation`);
  writeFileSync(saved, patch.original);
  process.exitCode = 2;
  console.error(`[mutations] could NOT restore ${patch.file}: it changed while patched. Its original is in ${saved}`);
}

function onSignal(signal: NodeJS.Signals): void {
  activeChild?.kill('SIGTERM');
  restore();
  console.error(`\n[mutations] ${signal}: restored the patched file, stopping`);
  process.exit(signal === 'SIGINT' ? 130 : 143);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('exit', restore);

interface RunResult {
  /** `file › test title` of every failed test (or failed file, when a suite did not load). */
  failures: string[];
  exitCode: number | null;
  timedOut: boolean;
  seconds: number;
  log: string;
}

interface VitestJson {
  testResults?: {
    name: string;
    status: string;
    message?: string;
    assertionResults?: { fullName?: string; title: string; status: string }[];
  }[];
}

async function runVitest(files: string[], workDir: string, label: string): Promise<RunResult> {
  const report = path.join(workDir, `${label}.json`);
  const log = path.join(workDir, `${label}.log`);
  const started = performance.now();
  const output: Buffer[] = [];
  const child = spawn(
    process.execPath,
    [VITEST, 'run', ...files, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  activeChild = child;
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
  }, RUN_TIMEOUT_MS);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  activeChild = undefined;
  writeFileSync(log, Buffer.concat(output));

  const failures: string[] = [];
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as VitestJson;
    for (const result of json.testResults ?? []) {
      const file = path.relative(ROOT, result.name);
      const failed = (result.assertionResults ?? []).filter((test) => test.status === 'failed');
      for (const test of failed) failures.push(`${file} › ${test.fullName ?? test.title}`);
      if (failed.length === 0 && result.status === 'failed') {
        failures.push(`${file} › (suite failed: ${result.message?.split('\n')[0] ?? 'no message'})`);
      }
    }
  } catch {
    // No report: counted below from the exit code.
  }
  if (failures.length === 0 && exitCode !== 0) {
    // Every test passed but the run did not (an unhandled error, say): CI would fail too.
    failures.push(`(vitest exited ${exitCode ?? 'on a signal'} with no failed test; see ${log})`);
  }
  if (timedOut) failures.push(`(timed out after ${RUN_TIMEOUT_MS / 60_000} min)`);
  return { failures, exitCode, timedOut, seconds: (performance.now() - started) / 1000, log };
}

interface Outcome {
  mutation: Mutation;
  run: RunResult;
}

/** The first failure (titles cut to stay readable in a table), and how many more there were. */
function caughtBy(run: RunResult): string {
  const [first, ...rest] = run.failures;
  if (!first) return '';
  const shown = first.length > 140 ? `${first.slice(0, 139)}…` : first;
  return rest.length > 0 ? `${shown} (+${rest.length} more)` : shown;
}

function printTable(outcomes: Outcome[]): void {
  const rows = outcomes.map(({ mutation, run }) => [
    `${mutation.id} ${mutation.title}`,
    `\`${mutation.file}\``,
    run.failures.length > 0 ? caughtBy(run) : `**SURVIVED** (expected: ${mutation.tests.join(', ')})`,
  ]);
  console.log('\n| mutation | file | caught by |\n| --- | --- | --- |');
  for (const row of rows) console.log(`| ${row.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const baseline = !args.includes('--no-baseline');
  const wanted = args.filter((arg) => !arg.startsWith('--')).map((arg) => arg.toUpperCase());
  const unknown = wanted.filter((id) => !MUTATIONS.some((mutation) => mutation.id === id));
  if (unknown.length > 0) {
    console.error(`Unknown mutation id(s): ${unknown.join(', ')}. Known: ${MUTATIONS.map((m) => m.id).join(', ')}`);
    return 2;
  }
  const selected = wanted.length > 0 ? MUTATIONS.filter((mutation) => wanted.includes(mutation.id)) : MUTATIONS;

  const problems = checkNeedles(selected);
  if (problems.length > 0) {
    console.error(`The code moved; update the mutations in scripts/test-mutations.ts:\n  ${problems.join('\n  ')}`);
    return 2;
  }

  const started = performance.now();
  const workDir = mkdtempSync(path.join(tmpdir(), 'supergraph-mutations-'));
  const services = process.env['DATABASE_URL'] ? 'PostgreSQL' : 'PGlite';
  const redis = process.env['REDIS_URL'] ? 'Redis' : 'the in-process Redis';
  console.log(`[mutations] ${selected.length} mutation(s) on ${services} and ${redis}; logs in ${workDir}`);

  if (baseline) {
    // A test that already fails would "catch" every mutation: the unmutated files must pass first.
    const files = [...new Set(selected.flatMap((mutation) => mutation.tests))];
    const run = await runVitest(files, workDir, 'baseline');
    if (run.exitCode !== 0 || run.failures.length > 0) {
      console.error(`[mutations] the unmutated tests fail, so no mutation result would mean anything (${run.log}):`);
      for (const failure of run.failures) console.error(`  ${failure}`);
      return 2;
    }
    console.log(`[mutations] baseline: ${files.length} test files pass (${run.seconds.toFixed(1)} s)`);
  }

  const outcomes: Outcome[] = [];
  for (const mutation of selected) {
    let run: RunResult;
    try {
      apply(mutation);
      run = await runVitest(mutation.tests, workDir, mutation.id);
    } finally {
      restore();
    }
    outcomes.push({ mutation, run });
    const verdict = run.failures.length > 0 ? `caught, ${run.failures.length} failing` : 'SURVIVED';
    console.log(`[mutations] ${mutation.id} ${mutation.title}: ${verdict} (${run.seconds.toFixed(1)} s)`);
    for (const failure of run.failures) console.log(`    ${failure}`);
  }

  printTable(outcomes);
  const caught = outcomes.filter(({ run }) => run.failures.length > 0).length;
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${caught} of ${outcomes.length} mutations caught (${seconds.toFixed(0)} s)`);
  if (caught === outcomes.length) rmSync(workDir, { recursive: true, force: true });
  return caught === outcomes.length ? 0 : 1;
}

process.exitCode = await main().catch((error: unknown) => {
  restore();
  console.error(error);
  return 2;
});
