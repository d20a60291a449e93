import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { configureService, hasDatabaseTls, type SubgraphDescriptor } from '@supergraph/kit';
import { parseGatewayEnv, subgraphsOf, subgraphUrlsFromEnv } from '@supergraph/gateway';
import { envPrefix, repoPath } from '@supergraph/platform';
import { SUBGRAPHS } from '@supergraph/registry';
import { parse as parseGraphql } from 'graphql';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

/**
 * The deployment artefacts against the code they deploy: every object of the
 * kustomize output valid against the Kubernetes schemas (offline,
 * kubernetes-models), and every service, in the manifests and in
 * docker-compose.yml, given what its own production configuration insists on:
 * the environment each container would get (ConfigMap, Secret values fresh
 * from `npm run secrets`, `$(VAR)` references, compose interpolation) is run
 * through the service's real checks (kit's `configureService`, the gateway's
 * `parseGatewayEnv`), so a new required variable fails here before it fails a
 * rollout. `node ops/check.ts` runs the tools (compose config, promtool).
 */

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ containerPort: number }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
}

const SCHEMAS: Record<string, Record<string, unknown>> = {
  v1: core,
  'apps/v1': apps,
  'batch/v1': batch,
  'autoscaling/v2': autoscaling,
  'policy/v1': policy,
  'networking.k8s.io/v1': networking,
};

const kubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const supergraphSdl = readFileSync(repoPath('schema/supergraph.graphql'), 'utf8');
const graphNames = [...subgraphsOf(parseGraphql(supergraphSdl)).keys()];

/** What `npm run secrets` produces, raw: the values the Secret and the env file hold. */
const secrets = JSON.parse(
  execFileSync(process.execPath, [repoPath('ops/generate-secrets.ts'), '--format=json'], { encoding: 'utf8' }),
) as Record<string, string>;

function render(dir: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', repoPath(dir)], { encoding: 'utf8' });
  return parseAllDocuments(text).map((document) => document.toJS() as K8sObject);
}

function podSpecOf(object: K8sObject): PodSpec | undefined {
  const template = (object.spec as { template?: { spec?: PodSpec } } | undefined)?.template;
  return template?.spec;
}

function named(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((object) => object.kind === kind && object.metadata.name === name);
}

/** The environment the kubelet would give `container`: envFrom ConfigMaps, then `env` in order with `$(VAR)` expanded. */
function containerEnv(objects: K8sObject[], container: Container): { env: Record<string, string>; problems: string[] } {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  const configMap = (name: string) => named(objects, 'ConfigMap', name)?.data;
  for (const source of container.envFrom ?? []) {
    if (source.secretRef) problems.push(`${container.name}: envFrom a whole Secret (${source.secretRef.name})`);
    if (source.configMapRef) {
      const data = configMap(source.configMapRef.name);
      if (!data) problems.push(`${container.name}: ConfigMap ${source.configMapRef.name} is not in the manifests`);
      Object.assign(env, data);
    }
  }
  for (const variable of container.env ?? []) {
    const secretRef = variable.valueFrom?.secretKeyRef;
    const configRef = variable.valueFrom?.configMapKeyRef;
    if (secretRef) {
      if (secretRef.name !== 'supergraph-secrets')
        problems.push(`${variable.name}: from Secret ${secretRef.name}, not supergraph-secrets`);
      const value = secrets[secretRef.key];
      if (value !== undefined) env[variable.name] = value;
      else if (!secretRef.optional) problems.push(`${variable.name}: npm run secrets does not make ${secretRef.key}`);
    } else if (configRef) {
      const value = configMap(configRef.name)?.[configRef.key];
      if (value !== undefined) env[variable.name] = value;
      else if (!configRef.optional)
        problems.push(`${variable.name}: ConfigMap ${configRef.name} has no ${configRef.key}`);
    } else {
      env[variable.name] = (variable.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => {
        if (env[name] === undefined) problems.push(`${variable.name}: $(${name}) is not defined before it`);
        return env[name] ?? whole;
      });
    }
  }
  return { env, problems };
}

/** Where a multi-host deployment must route explicitly (the code's defaults point at 127.0.0.1). */
function routingProblems(service: string, env: Record<string, string>, hostPorts: Map<string, number>): string[] {
  const required: Record<string, string[]> = {
    gateway: [...graphNames.map((name) => `${envPrefix(name)}_URL`), 'AUTH_JWKS_URL'],
    conversation: ['CONVERSATION_GATEWAY_URL', 'CONVERSATION_AUTH_URL'],
    operations: ['OPERATIONS_GATEWAY_URL', ...graphNames.map((name) => `${envPrefix(name)}_URL`)],
  };
  const problems = (required[service] ?? [])
    .filter((name) => !env[name])
    .map((name) => `${service}: ${name} unset (would be 127.0.0.1)`);
  for (const [name, value] of Object.entries(env)) {
    if (!/_URL$/.test(name) || name === 'DATABASE_URL' || name === 'REDIS_URL' || /^OTEL_/.test(name)) continue;
    const url = new URL(value);
    if (/^(localhost|127\.|\[::1\])/.test(url.hostname)) problems.push(`${service}: ${name} points at loopback`);
    else if (hostPorts.get(url.hostname) !== Number(url.port))
      problems.push(`${service}: ${name}=${value} is not a service of the deployment at that port`);
  }
  return problems;
}

/** What the service's own start-up would refuse with this environment, in production. */
function productionProblems(service: string, env: Record<string, string>): string[] {
  const production = { ...env, NODE_ENV: 'production' };
  if (service === 'gateway') {
    try {
      parseGatewayEnv(production);
      const urls = subgraphUrlsFromEnv(graphNames, production);
      return graphNames.filter((name) => !urls[name]).map((name) => `gateway: no ${envPrefix(name)}_URL`);
    } catch (error) {
      return [`gateway: ${(error as Error).message}`];
    }
  }
  const descriptor = SUBGRAPHS.find((subgraph) => subgraph.name === service);
  if (!descriptor) return [`${service}: not a registered subgraph`];
  return configureService(descriptor, production).problems.map((problem) => `${service}: ${problem}`);
}

const commandOf = (subgraph: SubgraphDescriptor) => ['node', `subgraphs/${subgraph.name}/src/main.ts`];

describe.skipIf(!kubectl && !process.env['CI'])('Kubernetes manifests (kubectl kustomize)', () => {
  for (const overlay of ['ops/k8s/base', 'ops/k8s/overlays/production']) {
    describe(overlay, () => {
      const objects = render(overlay);
      const deployments = objects.filter((object) => object.kind === 'Deployment');
      const services = new Map(
        objects
          .filter((object) => object.kind === 'Service')
          .map((object) => [
            object.metadata.name,
            (object.spec as { ports: Array<{ port: number }> }).ports[0]?.port ?? 0,
          ]),
      );

      it('validates every object against the Kubernetes schemas', () => {
        const problems: string[] = [];
        for (const object of objects) {
          const model = SCHEMAS[object.apiVersion]?.[object.kind] as
            (new (data: unknown) => { validate(): void }) | undefined;
          if (!model) {
            problems.push(`${object.kind} ${object.metadata.name}: no schema for ${object.apiVersion}`);
            continue;
          }
          try {
            new model(object).validate();
          } catch (error) {
            problems.push(`${object.kind} ${object.metadata.name}: ${(error as Error).message}`);
          }
        }
        expect(problems).toEqual([]);
        expect(objects.length).toBeGreaterThan(20);
      });

      it('runs the gateway and every registered subgraph with probes, resources, an HPA and a PDB', () => {
        const expected = ['gateway', ...SUBGRAPHS.map((subgraph) => subgraph.name)];
        expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual([...expected].sort());
        for (const name of expected) {
          const deployment = named(objects, 'Deployment', name)!;
          const pod = podSpecOf(deployment)!;
          const [container] = pod.containers;
          expect(container?.livenessProbe?.httpGet?.path, name).toBe('/health');
          expect(container?.readinessProbe?.httpGet?.path, name).toBe('/ready');
          for (const each of [...pod.containers, ...(pod.initContainers ?? [])]) {
            expect(each.resources?.requests?.['cpu'], `${name}/${each.name}`).toBeTruthy();
            expect(each.resources?.limits?.['memory'], `${name}/${each.name}`).toBeTruthy();
            expect(each.image, `${name}/${each.name}`).not.toBe('supergraph');
          }
          const port = container?.ports?.[0]?.containerPort;
          expect(services.get(name), `Service ${name}`).toBe(port);
          expect(deployment.metadata.annotations?.['prometheus.io/scrape'] ?? 'template').toBeTruthy();
          const hpa = named(objects, 'HorizontalPodAutoscaler', name);
          expect(JSON.stringify(hpa?.spec), `HPA ${name}`).toContain('"name":"cpu"');
          expect(named(objects, 'PodDisruptionBudget', name), `PDB ${name}`).toBeDefined();
        }
        for (const subgraph of SUBGRAPHS) {
          const pod = podSpecOf(named(objects, 'Deployment', subgraph.name)!)!;
          expect(pod.containers[0]?.command).toEqual(commandOf(subgraph));
          // Each subgraph waits for this image's migrations (ops/wait-for-migrations.ts).
          expect(pod.initContainers?.[0]?.command).toEqual(['node', 'ops/wait-for-migrations.ts', subgraph.name]);
        }
      });

      it("gives every service what its production configuration requires, and routes by the deployment's names", () => {
        const problems: string[] = [];
        for (const deployment of deployments) {
          const name = deployment.metadata.name;
          const pod = podSpecOf(deployment)!;
          for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
            const { env, problems: wiring } = containerEnv(objects, container);
            problems.push(...wiring.map((problem) => `${name}/${container.name}: ${problem}`));
            if (container.name !== name) {
              // The init container: the subgraph's role and password, to read its migration tables.
              for (const variable of ['DATABASE_URL', `${envPrefix(name)}_DB_PASSWORD`])
                if (!env[variable]) problems.push(`${name}/${container.name}: ${variable} unset`);
              continue;
            }
            problems.push(...productionProblems(name, env), ...routingProblems(name, env, services));
            if (overlay.includes('production')) {
              if (env['DATABASE_TLS'] === 'disable') problems.push(`${name}: DATABASE_TLS=disable in production`);
              if (env['DATABASE_URL'] && !hasDatabaseTls(env['DATABASE_URL']))
                problems.push(`${name}: DATABASE_URL without sslmode=require or stricter`);
            }
          }
        }
        expect(problems).toEqual([]);
      });

      it('migrates as the admin with every subgraph role password', () => {
        const job = named(objects, 'Job', 'migrate');
        const container = podSpecOf(job!)!.containers[0]!;
        expect(container.command).toEqual(['node', 'scripts/migrate.ts']);
        const { env, problems } = containerEnv(objects, container);
        expect(problems).toEqual([]);
        expect(new URL(env['DATABASE_URL']!).password).toBe(secrets['POSTGRES_PASSWORD']);
        for (const subgraph of SUBGRAPHS)
          expect(env[`${envPrefix(subgraph.name)}_DB_PASSWORD`], subgraph.name).toBe(
            secrets[`${envPrefix(subgraph.name)}_DB_PASSWORD`],
          );
      });

      it('lets only the gateway reach subgraphs and only database clients reach PostgreSQL', () => {
        const policies = objects.filter((object) => object.kind === 'NetworkPolicy');
        expect(named(objects, 'NetworkPolicy', 'default-deny')?.spec).toMatchObject({
          podSelector: {},
          policyTypes: ['Ingress', 'Egress'],
        });
        const labelsOf = (name: string) =>
          (podSpecOf(named(objects, 'Deployment', name)!) &&
            (named(objects, 'Deployment', name)!.spec as { template: { metadata: { labels: Record<string, string> } } })
              .template.metadata.labels) ??
          {};
        expect(labelsOf('gateway')['supergraph.dev/postgres-client']).toBeUndefined();
        for (const subgraph of SUBGRAPHS)
          expect(labelsOf(subgraph.name)['supergraph.dev/postgres-client']).toBe('true');
        // Egress to 5432 only from policies selecting database clients (or the backup job).
        for (const policy of policies) {
          const text = JSON.stringify((policy.spec as { egress?: unknown }).egress ?? []);
          if (!/"port":5432/.test(text)) continue;
          const selector = JSON.stringify((policy.spec as { podSelector: unknown }).podSelector);
          expect(selector, policy.metadata.name).toMatch(/postgres-client|backup/);
        }
      });
    });
  }
});

describe('docker-compose.yml', () => {
  const envFile = { ...secrets, CORS_ORIGINS: 'https://app.example.com' };
  /** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?message}` (an unset one is a problem). */
  const interpolate = (text: string, problems: string[]) =>
    text.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g,
      (_whole, name: string, mode?: string, rest?: string) => {
        const value = envFile[name as keyof typeof envFile];
        if (value !== undefined && value !== '') return value;
        if (mode === '?') problems.push(`${name}: required by compose, not made by npm run secrets`);
        return mode === '-' ? (rest ?? '') : '';
      },
    );

  function load(file: string, problems: string[]) {
    const document = parseYaml(readFileSync(repoPath(file), 'utf8'), { merge: true }) as {
      services: Record<
        string,
        {
          environment?: Record<string, string>;
          command?: string[];
          healthcheck?: { disable?: boolean; test?: unknown };
          depends_on?: Record<string, { condition: string }>;
          image?: string;
          build?: unknown;
        }
      >;
    };
    for (const service of Object.values(document.services)) {
      for (const [name, value] of Object.entries(service.environment ?? {}))
        service.environment![name] = interpolate(String(value), problems);
    }
    return document.services;
  }

  it('runs every registered subgraph and the gateway with what production requires', () => {
    const problems: string[] = [];
    const services = load('docker-compose.yml', problems);
    const ports = new Map<string, number>();
    for (const [name, service] of Object.entries(services)) {
      const port = Number(service.environment?.['HEALTH_PORT']);
      if (port) ports.set(name, port);
    }
    for (const subgraph of SUBGRAPHS) {
      const service = services[subgraph.name];
      expect(service, subgraph.name).toBeDefined();
      expect(service?.command).toEqual(commandOf(subgraph));
      expect(service?.depends_on?.['migrate']?.condition).toBe('service_completed_successfully');
      expect(services['migrate']?.environment?.[`${envPrefix(subgraph.name)}_DB_PASSWORD`], 'migrate').toBe(
        secrets[`${envPrefix(subgraph.name)}_DB_PASSWORD`],
      );
      expect(services['gateway']?.depends_on?.[subgraph.name]?.condition).toBe('service_healthy');
    }
    for (const name of ['gateway', ...SUBGRAPHS.map((subgraph) => subgraph.name)]) {
      const env = services[name]?.environment ?? {};
      problems.push(...productionProblems(name, env), ...routingProblems(name, env, ports));
      // The services log in as their own roles: the admin password stays with migrate.
      if (env['DATABASE_URL']) expect(new URL(env['DATABASE_URL']).password, name).toBe('');
    }
    expect(problems).toEqual([]);
  });

  it('has a healthcheck on every long-running container, and TLS to PostgreSQL in the override', () => {
    const problems: string[] = [];
    const services = load('docker-compose.yml', problems);
    // One-shot jobs, and the distroless collector (watched by Prometheus' `up` instead).
    const exempt = new Set(['migrate', 'otel-collector']);
    for (const [name, service] of Object.entries(services)) {
      if (exempt.has(name)) continue;
      expect(service.healthcheck?.test, name).toBeDefined();
      expect(service.healthcheck?.disable, name).toBeUndefined();
    }
    const tls = load('docker-compose.tls.yml', problems);
    for (const subgraph of SUBGRAPHS) {
      const env = { ...services[subgraph.name]?.environment, ...tls[subgraph.name]?.environment };
      expect(hasDatabaseTls(env['DATABASE_URL'] ?? ''), subgraph.name).toBe(true);
      expect(productionProblems(subgraph.name, env)).toEqual([]);
    }
    expect(problems).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8');

  it("copies every workspace's manifest before npm ci, so the install is complete", () => {
    const workspaces = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { workspaces: string[] })
      .workspaces;
    const expanded = workspaces.flatMap((pattern) =>
      pattern.endsWith('/*')
        ? SUBGRAPHS.map((subgraph) => subgraph.name)
            .map((name) => `${pattern.slice(0, -2)}/${name}`)
            .concat(['subgraphs/kit', 'subgraphs/registry'])
        : [pattern],
    );
    for (const workspace of new Set(expanded)) {
      if (!existsSync(repoPath(workspace, 'package.json'))) continue;
      expect(dockerfile, workspace).toContain(`COPY ${workspace}/package.json ${workspace}/`);
    }
  });

  it('runs as a non-root user with a healthcheck and SIGTERM, without dev dependencies', () => {
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toMatch(/^FROM .* AS runtime$/m);
  });
});
