import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = trace.getTracer('@supergraph/db');

/**
 * A client span for one statement on the embedded PGlite, shaped like
 * `@opentelemetry/instrumentation-pg`'s (`db.system` = `postgresql`, the
 * statement text, never its parameters): that instrumentation patches `pg`,
 * which PGlite is not, so without this a trace of `npm start` would have no
 * database in it. Only under a recording span: with telemetry off (no SDK,
 * so no recording span anywhere) it runs the statement and nothing else.
 */
export async function traceStatement<T>(statement: string, run: () => Promise<T>): Promise<T> {
  if (!trace.getSpan(context.active())?.isRecording()) return run();
  const operation = /^\s*([a-z]+)/i.exec(statement)?.[1]?.toUpperCase() ?? 'QUERY';
  return tracer.startActiveSpan(
    `pglite.query:${operation}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system': 'postgresql',
        'db.system.name': 'postgresql',
        'db.statement': statement,
        'db.query.text': statement,
        'db.operation.name': operation,
      },
    },
    async (span) => {
      try {
        return await run();
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
