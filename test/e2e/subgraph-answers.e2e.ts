import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureLogs, closeServer, generateInternalKeyPair, importInternalSigningKey } from '@supergraph/platform';
import { startGateway, type GatewayOptions, type RunningGateway } from '@supergraph/gateway';
import { postGraphQL } from './harness.ts';

/** What a fake subgraph answers: status, content type, body, after `delayMs`. */
interface Answer {
  status?: number;
  contentType?: string;
  body: string | object;
  delayMs?: number;
}

type Answering = (request: { query: string; variables?: Record<string, unknown> }) => Answer;

/**
 * A subgraph that answers whatever the test says, word for word: the shape of
 * a misbehaving or compromised service that the gateway must not echo.
 */
class FakeSubgraph {
  answer: Answering = () => ({ body: { data: null } });
  readonly server: Server;
  url = '';
  /** Answers sent so far (the gateway may have stopped waiting long before). */
  answered = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const answer = this.answer(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string });
        setTimeout(() => {
          if (res.destroyed) return;
          const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
          res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'application/json' });
          res.end(body);
          this.answered++;
        }, answer.delayMs ?? 0);
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/graphql`;
    return this;
  }
}

const FEDERATION = '@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';
const ALPHA_SDL = `extend schema ${FEDERATION}
  type Query { item: Item leak: String echo(at: String): String }
  type Item @key(fields: "id") { id: ID! }`;
const BETA_SDL = `extend schema ${FEDERATION}
  type Item @key(fields: "id") { id: ID! detail: String }`;

const SQL_AND_STACK =
  'error: syntax error at or near "SELECT" in SELECT password_hash FROM auth.users WHERE id = $1\n' +
  '    at Parser.parseErrorMessage (/srv/app/node_modules/pg-protocol/dist/parser.js:287:98)';
const LEAK = /SELECT|password_hash|node_modules|parser\.js|syntax error|stack/i;

const alpha = new FakeSubgraph();
const beta = new FakeSubgraph();
const gateways: RunningGateway[] = [];
let options: GatewayOptions;

beforeAll(async () => {
  await Promise.all([alpha.start(), beta.start()]);
  const composed = composeServices([
    { name: 'alpha', url: alpha.url, typeDefs: parse(ALPHA_SDL) },
    { name: 'beta', url: beta.url, typeDefs: parse(BETA_SDL) },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((error) => error.message).join('\n'));
  options = {
    supergraphSdl: composed.supergraphSdl,
    internalTokenKey: await importInternalSigningKey(generateInternalKeyPair().privateKeyPem),
    credentials: null,
    subgraphUrls: { alpha: alpha.url, beta: beta.url },
  };
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.stop()));
  await Promise.all([closeServer(alpha.server, 0), closeServer(beta.server, 0)]);
});

async function gatewayWith(overrides: Partial<GatewayOptions> = {}): Promise<RunningGateway> {
  const gateway = await startGateway({ ...options, ...overrides }, 0);
  gateways.push(gateway);
  return gateway;
}

describe("a subgraph's failed answer", () => {
  const failures: Array<[string, Answer]> = [
    ['400, plain text', { status: 400, contentType: 'text/plain', body: SQL_AND_STACK }],
    [
      '400, JSON claiming BAD_USER_INPUT',
      { status: 400, body: { errors: [{ message: SQL_AND_STACK, extensions: { code: 'BAD_USER_INPUT' } }] } },
    ],
    [
      '400, JSON claiming GRAPHQL_VALIDATION_FAILED',
      {
        status: 400,
        body: { errors: [{ message: SQL_AND_STACK, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] },
      },
    ],
    [
      '400, a coercion message with a stack appended',
      {
        status: 400,
        body: {
          errors: [
            {
              message: `Variable "$at" got invalid value "x"; ${SQL_AND_STACK}`,
              extensions: { code: 'BAD_USER_INPUT' },
            },
          ],
        },
      },
    ],
    ['500, HTML', { status: 500, contentType: 'text/html', body: `<pre>${SQL_AND_STACK}</pre>` }],
    ['200, not JSON', { status: 200, contentType: 'text/plain', body: SQL_AND_STACK }],
  ];

  it.each(failures)('%s: masked with a stable code at its path, logged at the gateway', async (_name, answer) => {
    const gateway = await gatewayWith();
    alpha.answer = () => answer;
    const logged: string[] = [];
    const stopCapture = captureLogs((line) => logged.push(line));
    const result = await postGraphQL(gateway.url, { query: '{ leak }' }).finally(stopCapture);
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      data: { leak: null },
      errors: [{ message: 'Service "alpha" failed', path: ['leak'], extensions: { code: 'SERVICE_UNAVAILABLE' } }],
    });
    expect(JSON.stringify(result.body)).not.toMatch(LEAK);
    // The subgraph's own text goes to the gateway's log, for whoever runs it.
    expect(logged.join(' ')).toMatch(/subgraph alpha failed: .*SELECT password_hash/s);
  });

  it("still passes on graphql-js's message for a value the subgraph refused (a custom scalar's input)", async () => {
    const gateway = await gatewayWith();
    const message = 'Variable "$at" got invalid value "yesterday"; DateTime must look like 2026-11-22T10:00:00Z';
    alpha.answer = () => ({ status: 400, body: { errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] } });
    const result = await postGraphQL(gateway.url, {
      query: 'query($at: String) { echo(at: $at) }',
      variables: { at: 'yesterday' },
    });
    expect(result.body.errors).toEqual([{ message, path: ['echo'], extensions: { code: 'BAD_USER_INPUT' } }]);
  });
});

describe('timeouts nest: subgraph < request', () => {
  const ITEM = { body: { data: { item: { __typename: 'Item', id: 'i-1' } } } };
  const DETAIL = { body: { data: { _entities: [{ __typename: 'Item', detail: 'detail' }] } } };

  it('a subgraph slower than its timeout costs its fields, answered before the request deadline', async () => {
    const gateway = await gatewayWith({ subgraphTimeoutMs: 300, requestTimeoutMs: 2_000 });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    alpha.answer = () => ({ ...ITEM, delayMs: 1_000 });
    const started = Date.now();
    const result = await postGraphQL(gateway.url, { query: '{ item { id } }' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result.status).toBe(200);
    expect(result.body.errors?.[0]).toMatchObject({ path: ['item'], extensions: { code: 'SERVICE_UNAVAILABLE' } });
  });

  it('a request whose fetches together outlast the request timeout gets 504 GATEWAY_TIMEOUT at the deadline', async () => {
    // Margins of 500 ms either side, so a loaded machine cannot move the outcome.
    const gateway = await gatewayWith({ subgraphTimeoutMs: 2_000, requestTimeoutMs: 2_500 });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    // Each fetch is within the subgraph timeout; the plan runs them one after the other (item, then its detail).
    alpha.answer = () => ({ ...ITEM, delayMs: 1_500 });
    beta.answer = () => ({ ...DETAIL, delayMs: 1_500 });
    const betaAnswered = beta.answered;
    const started = Date.now();
    const result = await postGraphQL(gateway.url, { query: '{ item { id detail } }' });
    const elapsed = Date.now() - started;
    // The client had its answer at the deadline, while the second fetch was still under way.
    expect(beta.answered).toBe(betaAnswered);
    expect(elapsed).toBeGreaterThanOrEqual(2_490);
    expect(result.status).toBe(504);
    expect(result.body).toEqual({
      errors: [{ message: 'The request took too long; try again later', extensions: { code: 'GATEWAY_TIMEOUT' } }],
    });
  });

  it('the same plan within the deadline answers in full', async () => {
    const gateway = await gatewayWith({ subgraphTimeoutMs: 2_000, requestTimeoutMs: 5_000 });
    alpha.answer = () => ({ ...ITEM, delayMs: 300 });
    beta.answer = () => ({ ...DETAIL, delayMs: 300 });
    const result = await postGraphQL(gateway.url, { query: '{ item { id detail } }' });
    expect(result.body).toEqual({ data: { item: { id: 'i-1', detail: 'detail' } } });
  });

  it('refuses to start with the subgraph timeout at or above the request timeout', async () => {
    await expect(gatewayWith({ subgraphTimeoutMs: 5_000, requestTimeoutMs: 5_000 })).rejects.toThrow(
      /subgraphTimeoutMs \(5000\) must be below requestTimeoutMs \(5000\)/,
    );
    await expect(gatewayWith({ subgraphTimeoutMs: 20_000 })).rejects.toThrow(
      /must be below requestTimeoutMs \(15000\)/,
    );
  });
});
