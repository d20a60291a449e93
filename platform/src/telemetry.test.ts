import { describe, expect, it } from 'vitest';
import {
  currentTraceparent,
  isTelemetryEnabled,
  startTelemetry,
  telemetryExporters,
  TRACEPARENT_PATTERN,
} from './telemetry.ts';

describe('telemetryExporters', () => {
  it('is off when nothing asks for tracing, unlike the SDK (whose default is OTLP to localhost)', () => {
    expect(telemetryExporters({})).toEqual([]);
    expect(telemetryExporters({ OTEL_SERVICE_NAME: 'auth', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual([]);
  });

  it('follows OTEL_TRACES_EXPORTER, and an OTLP endpoint alone means otlp', () => {
    expect(telemetryExporters({ OTEL_TRACES_EXPORTER: 'console' })).toEqual(['console']);
    expect(telemetryExporters({ OTEL_TRACES_EXPORTER: ' OTLP , console ' })).toEqual(['otlp', 'console']);
    expect(telemetryExporters({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual(['otlp']);
    expect(telemetryExporters({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toEqual([
      'otlp',
    ]);
  });

  it('lets none and OTEL_SDK_DISABLED win over an endpoint', () => {
    expect(
      telemetryExporters({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }),
    ).toEqual([]);
    expect(telemetryExporters({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'console' })).toEqual([]);
    expect(telemetryExporters({ OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'console' })).toEqual(['console']);
  });

  it('refuses an exporter it cannot build instead of silently tracing nothing', () => {
    expect(() => telemetryExporters({ OTEL_TRACES_EXPORTER: 'otpl' })).toThrow(/OTEL_TRACES_EXPORTER.*otpl/);
  });
});

describe('startTelemetry, off', () => {
  it('registers nothing: no SDK, no span, no traceparent to carry', async () => {
    const telemetry = startTelemetry('unit', { env: {} });
    expect(telemetry.enabled).toBe(false);
    expect(isTelemetryEnabled()).toBe(false);
    expect(currentTraceparent()).toBeUndefined();
    await telemetry.shutdown();
  });
});

describe('TRACEPARENT_PATTERN', () => {
  it('takes W3C version-00 trace context and nothing else', () => {
    expect(TRACEPARENT_PATTERN.test('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBe(true);
    for (const forged of [
      '00-' + '0'.repeat(32) + '-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-' + '0'.repeat(16) + '-01',
      '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
      '00-zz',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\nx',
    ])
      expect(TRACEPARENT_PATTERN.test(forged), forged).toBe(false);
  });
});
