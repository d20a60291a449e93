/**
 * One load run (the bench pins it to core 0): autocannon POSTs one body over
 * N connections for D seconds. Latency percentiles come from every response's
 * own time (autocannon's histogram keeps whole milliseconds, too coarse for
 * the small query). Responses whose body differs from the expected one count
 * as mismatches. Argv: JSON { url, body, connections, durationSeconds, expectBody? }.
 * Prints one JSON line: the result.
 */
import autocannon from 'autocannon';

interface LoadRequest {
  url: string;
  body: string;
  connections: number;
  durationSeconds: number;
  expectBody?: string;
}

export interface LoadResult {
  ok: number;
  /** Requests sent, answered or cut off by the end of the run (the gateway still finishes those). */
  sent: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  seconds: number;
  p50: number;
  p99: number;
  /** CPU this load generator used (ms): core 0 is shared with the subgraphs. */
  cpuMs: number;
}

const request = JSON.parse(process.argv[2]!) as LoadRequest;
const latencies: number[] = [];
const cpuBefore = process.cpuUsage();
const result = await new Promise<autocannon.Result>((resolve, reject) => {
  const instance = autocannon(
    {
      url: request.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: request.body,
      connections: request.connections,
      duration: request.durationSeconds,
      timeout: 30,
      ...(request.expectBody ? { expectBody: request.expectBody } : {}),
    },
    (error, finished) => (error ? reject(error) : resolve(finished)),
  );
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
});
const cpu = process.cpuUsage(cpuBefore);
latencies.sort((a, b) => a - b);
const percentile = (p: number) =>
  latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
const output: LoadResult = {
  ok: result['2xx'],
  sent: (result.requests as { sent?: number }).sent ?? result['2xx'],
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  mismatches: (result as { mismatches?: number }).mismatches ?? 0,
  seconds: (new Date(result.finish).getTime() - new Date(result.start).getTime()) / 1000,
  p50: percentile(50),
  p99: percentile(99),
  cpuMs: (cpu.user + cpu.system) / 1000,
};
process.stdout.write(`${JSON.stringify(output)}\n`);
