import { describe, expect, it } from 'vitest';
import { processMetricsOf, sampleSums } from './prometheus-text.ts';

const SCRAPE = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.25
process_resident_memory_bytes 104857600
nodejs_heap_size_used_bytes{service="knowledge"} 2.5e7
nodejs_eventloop_lag_seconds 0.0042
graphql_requests_total{service="knowledge",operation="Q",type="query",status="ok"} 3
graphql_requests_total{service="knowledge",operation="R",type="query",status="error"} 2
not a metric line
broken_value NaNx
`;

describe('prometheus text', () => {
  it('reads the default process metrics', () => {
    expect(processMetricsOf(SCRAPE)).toEqual({
      cpuSecondsTotal: 1.25,
      residentMemoryBytes: 104857600,
      heapUsedBytes: 25_000_000,
      eventLoopLagSeconds: 0.0042,
    });
  });

  it('sums a metric over its labels and ignores malformed lines', () => {
    expect(sampleSums(SCRAPE, ['graphql_requests_total', 'broken_value'])).toEqual(
      new Map([['graphql_requests_total', 5]]),
    );
  });

  it('answers null for what a process does not expose', () => {
    expect(processMetricsOf('')).toEqual({
      cpuSecondsTotal: null,
      residentMemoryBytes: null,
      heapUsedBytes: null,
      eventLoopLagSeconds: null,
    });
  });
});
