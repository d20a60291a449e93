/**
 * Imported first by every entry point (`import '@supergraph/platform/telemetry-register'`
 * as the first line of a `main.ts`, or `node --import`): starts telemetry
 * before any other module of the process evaluates, so the instrumentations
 * see pg, ioredis, http and graphql-js load (docs/decisions.md, 35). A
 * no-op unless the `OTEL_*` variables turn tracing on. The service is
 * `OTEL_SERVICE_NAME`, else read off the entry script's path
 * (`subgraphs/<name>/src/main.ts`, `gateway/src/main.ts`), else `supergraph`
 * (`npm start`, every service in one process).
 */
import { startTelemetry } from './telemetry.ts';

startTelemetry(serviceOfEntry(process.argv[1] ?? ''));

function serviceOfEntry(entry: string): string {
  const match = /(?:^|[\\/])(?:subgraphs[\\/]([a-z][a-z0-9-]*)|(gateway))[\\/]src[\\/]main\.ts$/.exec(entry);
  return match?.[1] ?? match?.[2] ?? 'supergraph';
}
