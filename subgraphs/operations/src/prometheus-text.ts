/**
 * The few values `systemMetrics` reads from a Prometheus text exposition:
 * each metric's samples summed over their labels (a process exposes one
 * series of each default metric, so the sum is that series). Comments, other
 * metrics and malformed lines are ignored.
 *
 * @example
 * sampleSums('process_cpu_seconds_total 1.5\n', ['process_cpu_seconds_total']) // Map { 'process_cpu_seconds_total' => 1.5 }
 */
export function sampleSums(text: string, names: readonly string[]): Map<string, number> {
  const wanted = new Set(names);
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, name, , rawValue] = match;
    if (!name || !wanted.has(name)) continue;
    const value = Number(rawValue);
    if (!Number.isFinite(value)) continue;
    sums.set(name, (sums.get(name) ?? 0) + value);
  }
  return sums;
}

/** The default prom-client metrics `systemMetrics` reports per service. */
export const PROCESS_METRICS = {
  cpuSecondsTotal: 'process_cpu_seconds_total',
  residentMemoryBytes: 'process_resident_memory_bytes',
  heapUsedBytes: 'nodejs_heap_size_used_bytes',
  eventLoopLagSeconds: 'nodejs_eventloop_lag_seconds',
} as const;

export type ProcessMetrics = { [K in keyof typeof PROCESS_METRICS]: number | null };

/** {@link PROCESS_METRICS} out of one scrape; null for each one the process does not expose. */
export function processMetricsOf(text: string): ProcessMetrics {
  const sums = sampleSums(text, Object.values(PROCESS_METRICS));
  return {
    cpuSecondsTotal: sums.get(PROCESS_METRICS.cpuSecondsTotal) ?? null,
    residentMemoryBytes: sums.get(PROCESS_METRICS.residentMemoryBytes) ?? null,
    heapUsedBytes: sums.get(PROCESS_METRICS.heapUsedBytes) ?? null,
    eventLoopLagSeconds: sums.get(PROCESS_METRICS.eventLoopLagSeconds) ?? null,
  };
}
