import { afterEach, describe, expect, it } from 'vitest';
import { captureLogs, createLogger, logContextFromHeaders, runWithLogContext, scrubCredentials } from './logger.ts';

const lines: string[] = [];
let stop: (() => void) | undefined;
afterEach(() => {
  stop?.();
  lines.length = 0;
});

function capture(): void {
  stop = captureLogs((line) => lines.push(line));
}

function parsed(): Array<Record<string, unknown>> {
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('createLogger', () => {
  it('writes one JSON line per call with service, level, time and the request trace id', () => {
    capture();
    const log = createLogger('unit');
    const context = logContextFromHeaders({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'x-request-id': 'req-1',
    });
    runWithLogContext(context, () => log.info({ subgraph: 'auth' }, 'hello'));
    expect(parsed()[0]).toMatchObject({
      level: 'info',
      service: 'unit',
      msg: 'hello',
      subgraph: 'auth',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      request_id: 'req-1',
    });
    expect(typeof parsed()[0]?.['time']).toBe('string');
  });

  it('starts a fresh trace id for a request without (or with a malformed) traceparent', () => {
    expect(logContextFromHeaders({}).traceId).toMatch(/^[\da-f]{32}$/);
    expect(logContextFromHeaders({ traceparent: 'garbage' }).traceId).toMatch(/^[\da-f]{32}$/);
    // An all-zero trace id is invalid (W3C): a fresh one, never the zeros.
    const zero = logContextFromHeaders({ traceparent: `00-${'0'.repeat(32)}-${'a'.repeat(16)}-01` });
    expect(zero.traceId).not.toBe('0'.repeat(32));
    expect(zero.spanId).toBeUndefined();
    expect(logContextFromHeaders({ 'x-request-id': 'bad id with spaces' }).requestId).toBeUndefined();
  });

  it('redacts credential fields by name and credential-shaped text in messages', () => {
    capture();
    const log = createLogger('unit');
    const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
    log.info(
      {
        password: 'hunter2-correct-horse',
        headers: { authorization: `Bearer ${jwt}`, cookie: 'sid=abc' },
        input: { apiKey: 'sg_AAAAbbbbCCCCdddd1234', providerKey: 'sk-live-provider-0000' },
      },
      `login failed for token ${jwt} and key sk-proj-abcdefghijklmnop1234`,
    );
    const text = lines.join('\n');
    for (const secret of [
      'hunter2-correct-horse',
      jwt,
      'sid=abc',
      'sg_AAAAbbbbCCCCdddd1234',
      'sk-live-provider-0000',
      'sk-proj-abcdefghijklmnop1234',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
  });

  it('a fixed-field logger (the request line) shares the sinks and still scrubs its message, without redaction', () => {
    capture();
    const log = createLogger('unit', { fixedFields: true });
    const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
    runWithLogContext({ traceId: 'a'.repeat(32), requestId: 'req-2' }, () =>
      log.info({ method: 'POST', status: 200 }, `request with ${jwt}`),
    );
    expect(parsed()[0]).toMatchObject({ service: 'unit', method: 'POST', status: 200, request_id: 'req-2' });
    expect(lines.join('\n')).not.toContain(jwt);
  });

  it('keeps ordinary long identifiers in messages', () => {
    expect(scrubCredentials('gateway_subgraph_fetch_duration_seconds went up')).toBe(
      'gateway_subgraph_fetch_duration_seconds went up',
    );
    expect(scrubCredentials('user 0f8e3f5e-8f8a-4b1f-9d3c-0f3c2b1a0e9d')).toContain('0f8e3f5e');
  });
});
