import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Level, type Logger, type LoggerOptions } from 'pino';
import { z } from 'zod';
import { checkEnv } from './env.ts';
import { TRACEPARENT_PATTERN } from './telemetry.ts';

/** An `x-request-id` a client may choose (the gateway echoes it; anything else gets a fresh one). */
export const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

export type { Logger } from 'pino';

/** What a request carries into every line logged while it runs (when no OpenTelemetry span is active). */
export interface LogContext {
  traceId: string;
  spanId?: string;
  requestId?: string;
}

const logContexts = new AsyncLocalStorage<LogContext>();

/**
 * Runs `work` with `context` attached to every log line written inside it,
 * also across awaits. The HTTP edge wraps each request in one, so lines carry
 * a `trace_id` even with tracing off.
 */
export function runWithLogContext<T>(context: LogContext, work: () => T): T {
  return logContexts.run(context, work);
}

/**
 * The request's log context: the trace id of an incoming W3C `traceparent`
 * (the gateway forwards it to subgraphs, so one request's lines share it
 * across services), else a fresh one.
 */
export function logContextFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): LogContext {
  const raw = headers['traceparent'];
  const match = TRACEPARENT_PATTERN.exec((Array.isArray(raw) ? raw[0] : raw) ?? '');
  const requestId = headers['x-request-id'];
  const context: LogContext = match
    ? { traceId: match[1]!, spanId: match[2]! }
    : { traceId: randomBytes(16).toString('hex') };
  if (typeof requestId === 'string' && REQUEST_ID_PATTERN.test(requestId)) context.requestId = requestId;
  return context;
}

/**
 * Field names whose values never reach a log line, at the top level, one
 * level down and in `headers` (`req.headers.authorization`).
 */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'accessToken',
  'refreshToken',
  'sessionToken',
  'internalToken',
  'key',
  'apiKey',
  'providerKey',
  'secret',
  'x-api-key',
  'x-session-token',
  'x-internal-token',
];
const REDACT_PATHS = SECRET_FIELDS.flatMap((field) => {
  const path = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
  const join = (prefix: string) => (path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`);
  return [path, join('*'), join('headers'), join('*.headers')];
});

/** Credential-shaped runs inside free text (JWTs, `sk-…` provider keys, our `sg_` API keys, long base64/hex). */
const CREDENTIAL_TEXT =
  /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}|\b(?:sk|sg|pk|rk)[-_][\w-]{12,}|\b[A-Fa-f0-9]{40,}\b|[A-Za-z0-9+/_-]{40,}={0,2}/g;

/** Replaces credential-shaped runs in `text` by `[redacted]`: the last line of defence for messages built from errors. */
export function scrubCredentials(text: string): string {
  // A long run counts only with letters and digits mixed, so long identifiers (`graphql_request_duration_seconds`) stay.
  return text.replace(CREDENTIAL_TEXT, (run) => (/\d/.test(run) && /[A-Za-z]/.test(run) ? '[redacted]' : run));
}

const LOG_ENV = z.object({
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
  NODE_ENV: z.string().optional(),
});

interface Sink {
  level: Level;
  write(line: string): void;
}

const captures = new Set<(line: string) => void>();
let root: Logger | undefined;
let unredactedRoot: Logger | undefined;

function rootLogger(unredacted = false): Logger {
  if (root) return unredacted ? unredactedRoot! : root;
  const parsed = checkEnv(LOG_ENV);
  const env = parsed.data ?? {};
  const production = env.NODE_ENV === 'production';
  const level: Level | 'silent' = env.LOG_LEVEL ?? 'info';
  // Under test the console shows warnings and worse unless LOG_LEVEL asks for more; captures still see `info`.
  const consoleLevel = env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'warn' : 'info');
  const sinks: Sink[] = [];
  if (consoleLevel !== 'silent') sinks.push({ level: consoleLevel, write: consoleStream(production) });
  sinks.push({ level: 'trace', write: (line) => captures.forEach((capture) => capture(line)) });
  const options: LoggerOptions = {
    level: level === 'silent' ? 'silent' : minLevel(level, 'info'),
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    mixin: traceFields,
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg: unknown) => (typeof arg === 'string' ? scrubCredentials(arg) : arg));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  const streams = pino.multistream(
    sinks.map(
      (sink) =>
        ({ level: sink.level, stream: { write: sink.write } }) satisfies { level: Level; stream: DestinationStream },
    ),
  );
  root = pino(options, streams);
  // The same sinks, level, mixin and message scrubbing; no redaction pass (see createLogger's `fixedFields`).
  const { redact: _redact, ...unredactedOptions } = options;
  unredactedRoot = pino(unredactedOptions, streams);
  if (parsed.problems.length > 0) root.warn(`logger: ignoring ${parsed.problems.join('; ')}`);
  return unredacted ? unredactedRoot : root;
}

const LEVELS: readonly Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
function minLevel(a: Level, b: Level): Level {
  return LEVELS.indexOf(a) <= LEVELS.indexOf(b) ? a : b;
}

/** JSON lines on stdout; pino-pretty (a dev dependency, absent in production installs) on a development TTY. */
function consoleStream(production: boolean): (line: string) => void {
  if (!production && process.stdout.isTTY) {
    try {
      const require = createRequire(import.meta.url);
      const pretty = require('pino-pretty') as (options: object) => Writable;
      const stream = pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' });
      return (line) => void stream.write(line);
    } catch {
      // Not installed: plain JSON it is.
    }
  }
  const stdout = pino.destination({ fd: 1, sync: true });
  return (line) => void stdout.write(line);
}

/** `trace_id`/`span_id` of the active OpenTelemetry span, else of the request's {@link LogContext}. */
function traceFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext && isSpanContextValid(spanContext)) {
    return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
  }
  const context = logContexts.getStore();
  if (!context) return {};
  return {
    trace_id: context.traceId,
    ...(context.spanId ? { span_id: context.spanId } : {}),
    ...(context.requestId ? { request_id: context.requestId } : {}),
  };
}

/**
 * The service's logger: structured JSON lines (pretty on a development TTY),
 * `level` from `LOG_LEVEL` (default `info`), the trace id on every line
 * written during a request, and secrets kept out (credential fields redacted
 * by name, credential-shaped text scrubbed from messages). Every logger of the
 * process shares one root, so `captureLogs` sees them all.
 *
 * @example
 * const log = createLogger('gateway');
 * log.info({ subgraph: 'auth' }, 'subgraph answered 503');
 *
 * `fixedFields: true` is for lines whose field names our code fixes and
 * none of which can hold a credential (the per-request access line): it skips
 * pino's redaction pass, which walks every line for the secret field names
 * (~3 % of the gateway's CPU under load, one line per request). Messages are
 * still scrubbed of credential-shaped text.
 */
export function createLogger(service: string, options: { fixedFields?: boolean } = {}): Logger {
  return rootLogger(options.fixedFields ?? false).child({ service });
}

/**
 * Sends a copy of every line any logger of this process writes (JSON, at
 * `info` and above) to `onLine` until the returned function is called. For
 * tests that prove what a log does (and does not) contain.
 */
export function captureLogs(onLine: (line: string) => void): () => void {
  rootLogger();
  captures.add(onLine);
  return () => void captures.delete(onLine);
}
