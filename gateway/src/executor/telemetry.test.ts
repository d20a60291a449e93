import { SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inSpan, inSpanAsync } from './telemetry.ts';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => void trace.setGlobalTracerProvider(provider));
afterAll(async () => {
  trace.disable();
  await provider.shutdown();
});
beforeEach(() => exporter.reset());

function only() {
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

describe('the executor spans', () => {
  it('end once, unset on success, with their name and attributes, under the scope Apollo uses', () => {
    expect(inSpan('gateway.plan', { 'graphql.operation.name': 'Q' }, () => 42)).toBe(42);
    const span = only();
    expect(span.name).toBe('gateway.plan');
    expect(span.attributes['graphql.operation.name']).toBe('Q');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.instrumentationScope.name).toBe('apollo/gateway-js');
  });

  it('fail on a throw (rethrown) and when the result says so', () => {
    expect(() =>
      inSpan('gateway.validate', {}, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(only().status.code).toBe(SpanStatusCode.ERROR);
    exporter.reset();
    inSpan(
      'gateway.validate',
      {},
      () => ['an error'],
      (errors) => errors.length > 0,
    );
    expect(only().status.code).toBe(SpanStatusCode.ERROR);
  });

  it('asynchronous work: the span ends when it settles, failed on a rejection or a synchronous throw', async () => {
    let release!: () => void;
    const pending = inSpanAsync(
      'gateway.fetch',
      { service: 'a' },
      () => new Promise<void>((resolve) => (release = resolve)),
    );
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    release();
    await pending;
    expect(only().attributes['service']).toBe('a');
    exporter.reset();
    await expect(inSpanAsync('gateway.fetch', {}, () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(only().status.code).toBe(SpanStatusCode.ERROR);
    exporter.reset();
    await expect(
      inSpanAsync('gateway.request', {}, () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(only().status.code).toBe(SpanStatusCode.ERROR);
    exporter.reset();
    await inSpanAsync(
      'gateway.request',
      {},
      async () => ({ errors: [1] }),
      (result) => result.errors.length > 0,
    );
    expect(only().status.code).toBe(SpanStatusCode.ERROR);
  });
});
