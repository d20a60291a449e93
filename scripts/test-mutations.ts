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

import { MUTATIONS, type Mutation } from './mutations.ts';

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
