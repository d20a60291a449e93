import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoPath } from '@supergraph/platform';

/**
 * `node ops/check.ts`: the deployment artefacts, validated offline with the
 * tools that own their formats (`.ci/run` installs them from Debian):
 * `docker compose config` / `docker-compose config` over docker-compose.yml
 * (alone and with docker-compose.tls.yml) with an env file fresh from
 * `npm run secrets`; `promtool check config` and `promtool test rules` over
 * ops/compose/prometheus; `kubectl kustomize` over ops/k8s's base and overlays.
 * The objects' schemas and the environment each service requires are
 * test/deploy-manifests.test.ts's job. A missing tool is a failure under CI
 * (`CI` set) and a notice otherwise.
 */
const inCi = Boolean(process.env['CI']);
const failures: string[] = [];
const skipped: string[] = [];

function run(label: string, command: string, args: string[]): void {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: repoPath(), encoding: 'utf8', timeout: 60_000 });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status === 0) {
    console.log(`ok    ${label} (${seconds} s)`);
    return;
  }
  failures.push(label);
  console.log(`FAIL  ${label} (${seconds} s)`);
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim();
  if (output) console.log(output.replace(/^/gm, '      '));
}

function has(command: string, args: string[] = ['--version']): boolean {
  return spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

function missing(tool: string, install: string): void {
  if (inCi) failures.push(`${tool} is not installed (${install})`);
  else skipped.push(`${tool} (install: ${install})`);
}

const scratch = mkdtempSync(path.join(tmpdir(), 'supergraph-deploy-check-'));
try {
  // The env file a user makes with `npm run secrets > .env`.
  const secrets = spawnSync(process.execPath, [repoPath('ops/generate-secrets.ts')], { encoding: 'utf8' });
  if (secrets.status !== 0) throw new Error(`npm run secrets failed: ${secrets.stderr}`);
  const envFile = path.join(scratch, '.env');
  writeFileSync(envFile, secrets.stdout, { mode: 0o600 });

  const compose = has('docker', ['compose', 'version'])
    ? { command: 'docker', prefix: ['compose'] }
    : has('docker-compose', ['version'])
      ? { command: 'docker-compose', prefix: [] }
      : undefined;
  if (compose) {
    for (const files of [['docker-compose.yml'], ['docker-compose.yml', 'docker-compose.tls.yml']]) {
      run(`${[compose.command, ...compose.prefix].join(' ')} config: ${files.join(' + ')}`, compose.command, [
        ...compose.prefix,
        '--env-file',
        envFile,
        ...files.flatMap((file) => ['-f', file]),
        'config',
        '-q',
      ]);
    }
  } else missing('docker compose / docker-compose', 'apt-get install docker-compose');

  if (has('promtool')) {
    run('promtool check config', 'promtool', ['check', 'config', 'ops/compose/prometheus/prometheus.yml']);
    run('promtool test rules', 'promtool', ['test', 'rules', 'ops/compose/prometheus/alerts.test.yml']);
  } else missing('promtool', 'apt-get install prometheus');

  const kustomize = has('kubectl', ['version', '--client'])
    ? { command: 'kubectl', prefix: ['kustomize'] }
    : has('kustomize', ['version'])
      ? { command: 'kustomize', prefix: ['build'] }
      : undefined;
  if (kustomize) {
    for (const dir of ['ops/k8s/base', 'ops/k8s/overlays/production'])
      run(`${[kustomize.command, ...kustomize.prefix].join(' ')} ${dir}`, kustomize.command, [
        ...kustomize.prefix,
        dir,
      ]);
  } else missing('kubectl or kustomize', 'see docs/deployment.md');

  // Grafana refuses a dashboard it cannot parse only when it starts; parse it here.
  try {
    JSON.parse(readFileSync(repoPath('ops/compose/grafana/dashboards/supergraph.json'), 'utf8'));
    console.log('ok    grafana dashboard JSON');
  } catch (error) {
    failures.push('grafana dashboard JSON');
    console.log(`FAIL  grafana dashboard JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

for (const tool of skipped) console.log(`notice: skipped the checks of ${tool}: not installed`);
if (failures.length > 0) {
  console.error(`deployment checks failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('deployment checks passed');
