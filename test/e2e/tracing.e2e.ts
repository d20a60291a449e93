import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Only telemetry before it starts: graphql-js, pg and ioredis load afterwards (the stack is imported in beforeAll).
import { startTelemetry, TRACEPARENT_PATTERN, type Telemetry } from '@supergraph/platform/telemetry';
import type { ChatStack } from './chat-stack.ts';

/*
 * Issue 9: one client request through the real gateway and three real
 * subgraphs is one trace. Every service runs in this process, so their spans
 * reach one in-memory exporter, as each process's would reach its own OTLP
 * exporter; a child-process subgraph then shows the same over OTLP/HTTP, and
 * a chat reply's Redis events carry the trace of the sendMessage behind them.
 */

const exporter = new InMemorySpanExporter();
const tracer = trace.getTracer('tracing.e2e');
let telemetry: Telemetry;
let stack: ChatStack;
let entryId: string;
let user: { userId: string; username: string; password: string; accessToken: string };

beforeAll(async () => {
  telemetry = startTelemetry('tracing-e2e', { spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const { startChatStack } = await import('./chat-stack.ts');
  stack = await startChatStack();
  [entryId = ''] = await stack.addKnowledge([{ title: 'Tracing', body: 'A trace is a tree of spans.', topic: 'ops' }]);
  user = await stack.signUp('trace');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await telemetry?.shutdown();
});

/** Runs `work` under a client span of the test's own; the instrumented fetch sends its context. */
async function asClient<T>(work: () => Promise<T>): Promise<{ result: T; traceId: string; spanId: string }> {
  return tracer.startActiveSpan('test client', async (span) => {
    try {
      const result = await work();
      return { result, traceId: span.spanContext().traceId, spanId: span.spanContext().spanId };
    } finally {
      span.end();
    }
  });
}

function portOf(span: ReadableSpan): number | undefined {
  const port = span.attributes['server.port'] ?? span.attributes['net.host.port'];
  return typeof port === 'number' ? port : undefined;
}

/** `db.system.name` (stable conventions, what instrumentation-pg records), else the older `db.system`. */
function dbSystemOf(span: ReadableSpan): unknown {
  return span.attributes['db.system.name'] ?? span.attributes['db.system'];
}

function portOfUrl(url: string): number {
  return Number(new URL(url).port);
}

/** The spans of one trace, with lookups by id and by ancestry. */
function traceOf(traceId: string) {
  const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  const parentOf = (span: ReadableSpan) => {
    const parentId = span.parentSpanContext?.spanId;
    return parentId ? byId.get(parentId) : undefined;
  };
  const isUnder = (span: ReadableSpan, ancestor: ReadableSpan) => {
    for (let at = parentOf(span); at; at = parentOf(at)) if (at === ancestor) return true;
    return false;
  };
  const serverOn = (port: number) =>
    spans.filter((span) => span.kind === SpanKind.SERVER && portOf(span) === port && span.name === 'POST');
  return { spans, byId, parentOf, isUnder, serverOn };
}

/** Polls `probe` until it returns a value (generous bound: spans are exported as each one ends). */
async function eventually<T>(probe: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const THREE_SUBGRAPHS = `query Traced($id: ID!) {
  me { username }
  knowledgeEntry(id: $id) { title author { username } }
  facilityStatus { unitsTotal totalRecords }
}`;

describe('one client query across three subgraphs', () => {
  it('is one trace: the gateway, each subgraph and their PostgreSQL statements, linked across every HTTP hop', async () => {
    exporter.reset();
    const { result, traceId, spanId } = await asClient(() =>
      stack.gql(THREE_SUBGRAPHS, { id: entryId }, { authorization: `Bearer ${user.accessToken}` }),
    );
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data?.['me']).toEqual({ username: user.username });

    const gatewayPort = portOfUrl(stack.gateway.url);
    const subgraphs = { auth: stack.auth, knowledge: stack.knowledge, 'storage-units': stack.storage };
    // Spans end in order child-first; the gateway's server span ends last, after the response.
    const found = await eventually(() => {
      const found = traceOf(traceId);
      return found.serverOn(gatewayPort).length === 1 ? found : undefined;
    }, "the gateway's server span");

    // ONE trace: every server span and every SQL span this request caused is in the client's.
    const all = exporter.getFinishedSpans();
    for (const span of all.filter((span) => span.kind === SpanKind.SERVER || dbSystemOf(span) === 'postgresql'))
      expect(span.spanContext().traceId, `${span.name} (${span.instrumentationScope.name})`).toBe(traceId);

    // The gateway: its server span continues the test's client (through the instrumented fetch's own span)…
    const [gatewayServer] = found.serverOn(gatewayPort);
    const clientHop = found.parentOf(gatewayServer!);
    expect(clientHop?.kind).toBe(SpanKind.CLIENT);
    expect(clientHop?.parentSpanContext?.spanId).toBe(spanId);
    // …and @apollo/gateway's own request, plan, execute and fetch spans hang under it.
    for (const name of ['gateway.request', 'gateway.plan', 'gateway.execute', 'gateway.fetch']) {
      const span = found.spans.find((candidate) => candidate.name === name);
      expect(span, name).toBeDefined();
      expect(found.isUnder(span!, gatewayServer!), `${name} under the gateway's server span`).toBe(true);
    }

    for (const [name, running] of Object.entries(subgraphs)) {
      const servers = found.serverOn(portOfUrl(running.url));
      expect(servers.length, `${name}'s server spans`).toBeGreaterThan(0);
      for (const server of servers) {
        // The hop: gateway.fetch (for this subgraph) → undici's client span → the subgraph's server span.
        const hop = found.parentOf(server);
        expect(hop?.kind, `${name}: parent is the gateway's HTTP client span`).toBe(SpanKind.CLIENT);
        const fetch = found.parentOf(hop!);
        expect(fetch?.name).toBe('gateway.fetch');
        expect(fetch?.attributes['service']).toBe(name);
        expect(found.isUnder(server, gatewayServer!)).toBe(true);
        // GraphQL execution inside the subgraph.
        const graphql = found.spans.filter(
          (span) =>
            span.instrumentationScope.name === '@opentelemetry/instrumentation-graphql' && found.isUnder(span, server),
        );
        const names = graphql.map((span) => span.name);
        expect(names, `${name}'s GraphQL spans`).toEqual(expect.arrayContaining(['graphql.parse', 'graphql.validate']));
        // The execution span bears the operation the query planner named for this subgraph (`Traced__auth__0`).
        expect(
          names.some((spanName) => /^query Traced__[a-z_]+__\d+$/.test(spanName)),
          names.join(', '),
        ).toBe(true);
      }
      // Its SQL: PostgreSQL spans (pg's instrumentation, or PGlite's through the db package) under its server spans.
      const statements = found.spans.filter(
        (span) =>
          dbSystemOf(span) === 'postgresql' &&
          (span.attributes['db.query.text'] ?? span.attributes['db.statement']) !== undefined &&
          servers.some((server) => found.isUnder(span, server)),
      );
      expect(statements.length, `${name}'s PostgreSQL statement spans`).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement.kind).toBe(SpanKind.CLIENT);
        // The statement's text with its placeholders, never the values bound to them.
        expect(String(statement.attributes['db.query.text'] ?? statement.attributes['db.statement'])).toMatch(
          /^\s*select\b/i,
        );
      }
    }
  });

  it('records no credential: no span attribute holds a password, an access token or an internal token', async () => {
    exporter.reset();
    const fresh = await stack.signUp('secret');
    const { result } = await asClient(() =>
      stack.gql(THREE_SUBGRAPHS, { id: entryId }, { authorization: `Bearer ${fresh.accessToken}` }),
    );
    expect(result.body.errors).toBeUndefined();
    const recorded = JSON.stringify(
      exporter.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes })),
    );
    expect(recorded).not.toContain(fresh.password);
    expect(recorded).not.toContain(fresh.accessToken);
    expect(recorded).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(recorded.toLowerCase()).not.toContain('x-internal-token');
  });
});

describe('a chat reply', () => {
  it("carries the sendMessage's trace in every event of its Redis stream", async () => {
    const asUser = async (query: string, variables: Record<string, unknown>) => {
      const result = await stack.gql(query, variables, { authorization: `Bearer ${user.accessToken}` });
      expect(result.body.errors, JSON.stringify(result.body.errors)).toBeUndefined();
      return result.body.data as Record<string, { id: string } & Record<string, { id: string }>>;
    };
    const { createDroid } = await asUser('mutation ($input: CreateDroidInput!) { createDroid(input: $input) { id } }', {
      input: { name: 'Tracer', persona: 'Terse.' },
    });
    const { startConversation } = await asUser('mutation ($id: ID!) { startConversation(droidId: $id) { id } }', {
      id: createDroid!.id,
    });
    exporter.reset();
    const { result, traceId } = await asClient(() =>
      asUser('mutation ($id: ID!) { sendMessage(conversationId: $id, content: "What is a trace?") { reply { id } } }', {
        id: startConversation!.id,
      }),
    );
    const replyId = result['sendMessage']!['reply']!.id;
    await stack.conversation.app.engine.idle();

    const stored = await stack.services.redis.lrange(stack.conversation.app.streams.list(replyId), 0, -1);
    const events = stored.map((text) => JSON.parse(text) as { kind: string; traceparent?: string });
    expect(events.length).toBeGreaterThan(1);
    expect(events.at(-1)?.kind).toBe('COMPLETE');
    const conversationServer = await eventually(
      () => traceOf(traceId).serverOn(portOfUrl(stack.conversation.url))[0],
      "the conversation's server span",
    );
    for (const event of events) {
      expect(event.traceparent).toMatch(TRACEPARENT_PATTERN);
      const [, eventTraceId, parentSpanId] = event.traceparent!.split('-');
      expect(eventTraceId, `${event.kind} event's trace`).toBe(traceId);
      // The span it names is the conversation's own handling of sendMessage (under its server span).
      const found = traceOf(traceId);
      const parent = found.byId.get(parentSpanId!);
      expect(parent, 'the span the event names').toBeDefined();
      expect(parent === conversationServer || found.isUnder(parent!, conversationServer)).toBe(true);
    }
    // The reply's own work (the grant from auth, retrieval through the gateway) stays in the same trace.
    const authServer = traceOf(traceId).serverOn(portOfUrl(stack.auth.url));
    expect(authServer.length).toBeGreaterThan(0);
  });
});

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
}
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }>;
  }>;
}

/** A local OTLP/HTTP receiver (JSON encoding): what a collector would get from the child. */
async function startOtlpReceiver() {
  const received: Array<OtlpSpan & { service: string; scope: string }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
      for (const resource of body.resourceSpans ?? []) {
        const service =
          resource.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value.stringValue ?? '';
        for (const scope of resource.scopeSpans ?? [])
          for (const span of scope.spans ?? []) received.push({ ...span, service, scope: scope.scope?.name ?? '' });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('a subgraph in its own process', () => {
  it("exports its spans over OTLP/HTTP in the trace of the caller's span", async () => {
    const { forkServer, subgraphClient, userIdentity } = await import('@supergraph/testing');
    const { databaseSpec } = await import('@supergraph/storage-units');
    const receiver = await startOtlpReceiver();
    const target = stack.services.targetFor(databaseSpec);
    const child = await forkServer(
      fileURLToPath(new URL('./tracing-child.ts', import.meta.url)),
      {
        databaseUrl: target.kind === 'postgres' ? target.url : '',
        redisUrl: process.env['REDIS_URL'] ?? '',
        publicKeyPem: stack.services.keys.publicKeyPem,
        rateLimitPrefix: stack.services.rateLimitPrefix('storage-units-child'),
      },
      {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'storage-units',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
    );
    try {
      const client = subgraphClient({
        url: child.url,
        audience: 'storage-units',
        signingKey: stack.services.keys.signingKey,
      });
      const { result, traceId, spanId } = await asClient(() =>
        client.call('query Status { facilityStatus { unitsTotal totalRecords } }', {}, userIdentity()),
      );
      expect(result.errors).toBeUndefined();
      // The hop out of this process: the instrumented fetch's client span, a child of the test's span.
      const hop = traceOf(traceId).spans.find(
        (span) => span.kind === SpanKind.CLIENT && span.parentSpanContext?.spanId === spanId,
      );
      expect(hop).toBeDefined();
      const spans = await eventually(() => {
        const mine = receiver.received.filter((span) => span.traceId === traceId);
        const done = mine.some((span) => span.kind === 2 /* OTLP SERVER */ && span.name === 'POST');
        const sql = mine.some((span) => span.attributes?.some((attribute) => attribute.key.startsWith('db.system')));
        return done && sql ? mine : undefined;
      }, "the child's server and SQL spans over OTLP");
      const server = spans.find((span) => span.kind === 2 && span.name === 'POST')!;
      expect(server.service).toBe('storage-units');
      expect(server.parentSpanId).toBe(hop!.spanContext().spanId);
      expect(spans.some((span) => span.scope === '@opentelemetry/instrumentation-graphql')).toBe(true);
      const sql = spans.filter((span) =>
        span.attributes?.some(
          (attribute) => attribute.key.startsWith('db.system') && attribute.value.stringValue === 'postgresql',
        ),
      );
      expect(sql.length).toBeGreaterThan(0);
      // Every span the child sent for this request is in the one trace, whatever process made it.
      expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([traceId]));
    } finally {
      await child.stop();
      await receiver.close();
    }
  });
});
