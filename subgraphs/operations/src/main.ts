// First: tracing (when OTEL_* turns it on) must start before pg, ioredis, http and graphql load.
import '@supergraph/platform/telemetry-register';
import { runSubgraph } from '@supergraph/kit';
import { operations } from './index.ts';

await runSubgraph(operations);
