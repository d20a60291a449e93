import { createRequire } from 'node:module';
import { context as otelContext, trace, TraceFlags, type Context } from '@opentelemetry/api';
import type * as GraphQLInstrumentationModule from '@opentelemetry/instrumentation-graphql';
import type * as HttpInstrumentationModule from '@opentelemetry/instrumentation-http';
import type * as IORedisInstrumentationModule from '@opentelemetry/instrumentation-ioredis';
import type * as PgInstrumentationModule from '@opentelemetry/instrumentation-pg';
import type * as UndiciInstrumentationModule from '@opentelemetry/instrumentation-undici';
import type * as SdkNodeModule from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';
import { repoPath } from './repo.ts';

/** What `startTelemetry` hands back: whether spans are recorded, and how to flush them at the end. */
export interface Telemetry {
  /** True once the SDK is registered; false means no span is ever created (the default). */
  readonly enabled: boolean;
  /** Where spans go: `off`, or the exporters named by the environment (`console`, `otlp`), or `custom` for caller-supplied processors. */
  readonly exporters: readonly string[];
  /** Exports the spans still buffered and unregisters the SDK. Safe to call twice. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** Defaults to `process.env`; only the `OTEL_*` variables are read. */
  env?: NodeJS.ProcessEnv;
  /**
   * Span processors of the caller's own (a test's `SimpleSpanProcessor` over
   * an `InMemorySpanExporter`). They turn telemetry on whatever the
   * environment says, and replace the exporters it names.
   */
  spanProcessors?: SpanProcessor[];
}

const exporterList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== '' && name !== 'null'),
  );

/** The `OTEL_*` variables that decide whether tracing runs at all; the SDK reads the rest (endpoint, headers, protocol) itself. */
const TELEMETRY_ENV = z.object({
  OTEL_SDK_DISABLED: z
    .string()
    .optional()
    .transform((value) => /^true$/i.test(value?.trim() ?? '')),
  OTEL_TRACES_EXPORTER: exporterList,
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().optional(),
  OTEL_METRICS_EXPORTER: z.string().optional(),
  OTEL_LOGS_EXPORTER: z.string().optional(),
});

/** The exporters the SDK builds from `OTEL_TRACES_EXPORTER`. */
const SUPPORTED_EXPORTERS = new Set(['otlp', 'console', 'zipkin']);

/**
 * Which trace exporters the environment asks for, or `[]` for off: off unless
 * `OTEL_TRACES_EXPORTER` names one (`otlp`, `console`) or an OTLP endpoint is
 * set (then `otlp`); `OTEL_SDK_DISABLED=true` and `OTEL_TRACES_EXPORTER=none`
 * win over everything. Unlike the SDK's own default (OTLP to localhost:4318),
 * nothing unset means nothing exported, so `npm start` stays quiet.
 */
export function telemetryExporters(env: NodeJS.ProcessEnv = process.env): string[] {
  const parsed = TELEMETRY_ENV.parse(env);
  if (parsed.OTEL_SDK_DISABLED) return [];
  const named = parsed.OTEL_TRACES_EXPORTER;
  if (named.includes('none')) return [];
  const known = named.filter((name) => SUPPORTED_EXPORTERS.has(name));
  if (known.length > 0) return known;
  if (named.length > 0) throw new Error(`OTEL_TRACES_EXPORTER: unsupported exporter "${named.join(', ')}"`);
  const endpoint = parsed.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || parsed.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return endpoint ? ['otlp'] : [];
}

/**
 * The CommonJS modules the instrumentations patch, required once more after
 * the SDK starts. require-in-the-middle only sees `require()` calls, and an ES
 * module's `import pg from 'pg'` is not one; but the instrumentations patch
 * the modules' shared classes (`Client.prototype.query`,
 * `Redis.prototype.sendCommand`, `Server.prototype.emit`), so requiring them
 * here patches the very objects every earlier `import` got (docs/decisions.md, 35).
 */
const PATCHED_MODULES = [
  'node:http',
  'node:https',
  'pg',
  'pg-pool',
  'ioredis',
  'graphql/execution/execute.js',
  'graphql/language/parser.js',
  'graphql/validation/validate.js',
  'graphql',
] as const;

let started: Telemetry | undefined;
let enabled = false;

const OFF: Telemetry = { enabled: false, exporters: [], shutdown: async () => {} };

/**
 * Starts OpenTelemetry tracing for this process, once: the NodeSDK with W3C
 * trace context, and the http, undici, pg, ioredis and graphql
 * instrumentations (`@apollo/gateway` adds its own `gateway.*` spans through
 * `@opentelemetry/api` once a provider is registered). Off unless the
 * environment asks for it ({@link telemetryExporters}); then no SDK module is
 * even loaded and no span is ever created. Synchronous on purpose: a module
 * that calls it (`telemetry-register.ts`) has started the SDK before the next
 * import of its importer evaluates, so graphql-js is patched before Apollo
 * binds its functions. A second call returns the first one's handle.
 * Metrics and logs stay with Prometheus and pino unless
 * `OTEL_METRICS_EXPORTER`/`OTEL_LOGS_EXPORTER` say otherwise.
 *
 * @example
 * const telemetry = startTelemetry('knowledge');
 * stopOnSignals('knowledge', async () => { await server.stop(); await telemetry.shutdown(); });
 */
export function startTelemetry(service: string, options: TelemetryOptions = {}): Telemetry {
  if (started) return started;
  const telemetry = start(service, options);
  // Only a running SDK is kept: a later call may still turn tracing on (a test's own processors).
  if (telemetry.enabled) started = telemetry;
  return telemetry;
}

function start(service: string, options: TelemetryOptions): Telemetry {
  const env = options.env ?? process.env;
  const exporters = options.spanProcessors ? ['custom'] : telemetryExporters(env);
  if (exporters.length === 0) return OFF;
  const parsed = TELEMETRY_ENV.parse(env);
  // Loaded only now, with require (every OpenTelemetry package ships CommonJS): nothing of the SDK when off.
  const load = createRequire(import.meta.url);
  const { NodeSDK } = load('@opentelemetry/sdk-node') as typeof SdkNodeModule;
  const { HttpInstrumentation } = load('@opentelemetry/instrumentation-http') as typeof HttpInstrumentationModule;
  const { UndiciInstrumentation } = load('@opentelemetry/instrumentation-undici') as typeof UndiciInstrumentationModule;
  const { PgInstrumentation } = load('@opentelemetry/instrumentation-pg') as typeof PgInstrumentationModule;
  const { IORedisInstrumentation } = load(
    '@opentelemetry/instrumentation-ioredis',
  ) as typeof IORedisInstrumentationModule;
  const { GraphQLInstrumentation } = load(
    '@opentelemetry/instrumentation-graphql',
  ) as typeof GraphQLInstrumentationModule;
  const sdk = new NodeSDK({
    serviceName: parsed.OTEL_SERVICE_NAME?.trim() || service,
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
    // Prometheus (/metrics) and pino carry metrics and logs; the SDK would otherwise push both to localhost:4318.
    ...(parsed.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(parsed.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes would be most of the traces and say nothing about requests.
        ignoreIncomingRequestHook: (request) => isProbePath(request.url),
      }),
      new UndiciInstrumentation(),
      // Statement text only (no parameter values: they hold password hashes, tokens, users' text); only inside
      // a trace, as for Redis, so pool chatter and background sweeps do not each start a trace of their own.
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
      // The command name only: arguments are session ids, revocation keys, chat text.
      new IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
      new GraphQLInstrumentation({ mergeItems: true, ignoreTrivialResolveSpans: true, allowValues: false, depth: 2 }),
    ],
  });
  sdk.start();
  patchLoadedModules();
  enabled = true;
  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    exporters,
    shutdown: () =>
      (stopping ??= sdk.shutdown().finally(() => {
        enabled = false;
        started = undefined;
      })),
  };
}

function patchLoadedModules(): void {
  // Resolved from the repository root, as the services resolve them (one hoisted copy of each).
  const require = createRequire(repoPath('package.json'));
  for (const id of PATCHED_MODULES) {
    try {
      require(id);
    } catch {
      // Not installed here (e.g. a slim image without pg): nothing to patch.
    }
  }
}

function isProbePath(url: string | undefined): boolean {
  const path = url?.split('?', 1)[0];
  return path === '/health' || path === '/ready' || path === '/metrics';
}

/**
 * Whether this process records spans. Hot paths ask before doing any tracing
 * work of their own (the gateway forwards a client's `traceparent` verbatim
 * only when it is off).
 */
export function isTelemetryEnabled(): boolean {
  return enabled;
}

/**
 * The W3C `traceparent` of the active span (or of `context`), for carrying a
 * trace where no instrumentation does (Redis events, a WebSocket's upgrade);
 * undefined when there is no valid span, always the case with telemetry off.
 *
 * @example
 * const event = { kind: 'DELTA', ...(currentTraceparent() ? { traceparent: currentTraceparent() } : {}) };
 */
export function currentTraceparent(context: Context = otelContext.active()): string | undefined {
  const span = trace.getSpan(context);
  if (!span) return undefined;
  const spanContext = span.spanContext();
  if (!trace.isSpanContextValid(spanContext)) return undefined;
  const sampled = (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
  return `00-${spanContext.traceId}-${spanContext.spanId}-${sampled ? '01' : '00'}`;
}

/** A W3C `traceparent` (version 00, non-zero ids), as carried in headers and events; groups: trace id, span id. */
export const TRACEPARENT_PATTERN = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})([0-9a-f]{16})-[0-9a-f]{2}$/;
