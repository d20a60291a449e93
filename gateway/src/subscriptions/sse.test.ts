import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectBody, startScriptedServer, until, type ScriptedServer } from './scripted-core.test-support.ts';

const TICKS = 'subscription Ticks { tick }';
const SSE = { 'content-type': 'application/json', accept: 'text/event-stream' };

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer({ sseKeepAliveMs: 50 });
});
afterAll(() => server.close());

/** The event stream without its keep-alive comments (`:` lines), which arrive whenever the stream idles. */
function withoutComments(text: string): string {
  return text
    .split(/(?<=\n\n)/)
    .filter((event) => !event.startsWith(':'))
    .join('');
}

async function openSse(init: RequestInit & { url?: string } = {}) {
  const response = await fetch(init.url ?? server.url, {
    method: 'POST',
    headers: SSE,
    body: JSON.stringify({ query: TICKS }),
    ...init,
  });
  return { response, body: collectBody(response) };
}

describe('SSE (graphql-sse distinct connections)', () => {
  it('frames each result as `event: next` and ends with `event: complete` and an empty data line', async () => {
    const before = server.core.openStreams();
    const { response, body } = await openSse();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('connection')).toBe('keep-alive');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    await until(() => server.core.openStreams() === before + 1);
    server.core.emit({ data: { tick: 1 } });
    server.core.emit({ data: { tick: 2 }, errors: [{ message: 'partial', extensions: { code: 'X' } }] });
    server.core.endAll();
    await body.ended;
    expect(withoutComments(body.text)).toBe(
      'event: next\ndata: {"data":{"tick":1}}\n\n' +
        'event: next\ndata: {"data":{"tick":2},"errors":[{"message":"partial","extensions":{"code":"X"}}]}\n\n' +
        'event: complete\ndata:\n\n',
    );
  });

  it("is read by graphql-sse's own client, which sees every result and the completion", async () => {
    const client = createClient({ url: server.url, singleConnection: false, retryAttempts: 0 });
    const seen: unknown[] = [];
    const completed = new Promise<void>((resolve, reject) => {
      client.subscribe({ query: TICKS }, { next: (value) => seen.push(value), error: reject, complete: resolve });
    });
    await until(() => server.core.openStreams() === 1);
    server.core.emit({ data: { tick: 1 } });
    server.core.emit({ data: { tick: 2 } });
    await until(() => seen.length === 2);
    server.core.endAll();
    await completed;
    expect(seen).toEqual([{ data: { tick: 1 } }, { data: { tick: 2 } }]);
    client.dispose();
  });

  it('works over GET with the parameters in the query string', async () => {
    const url = new URL(server.url);
    url.searchParams.set('query', 'subscription Ticks($n: Int) { tick }');
    url.searchParams.set('variables', JSON.stringify({ n: 3 }));
    url.searchParams.set('operationName', 'Ticks');
    const calls = server.core.calls.length;
    const { response, body } = await openSse({
      url: url.href,
      method: 'GET',
      headers: { accept: 'text/event-stream' },
      body: null,
    });
    expect(response.status).toBe(200);
    await until(() => server.core.calls.length === calls + 1);
    expect(server.core.calls.at(-1)?.request).toMatchObject({ variables: { n: 3 }, operationName: 'Ticks' });
    server.core.endAll();
    await body.ended;
    expect(body.text.endsWith('event: complete\ndata:\n\n')).toBe(true);
  });

  it('sends a keep-alive comment while idle', async () => {
    const { body } = await openSse();
    await until(() => (body.text.match(/:\n\n/g) ?? []).length >= 3);
    server.core.endAll();
    await body.ended;
  });

  it('aborts the stream (closing the upstream) when the client goes away', async () => {
    const aborted = server.core.aborted();
    const controller = new AbortController();
    const { body } = await openSse({ signal: controller.signal });
    await until(() => server.core.openStreams() === 1);
    controller.abort();
    await body.ended.catch(() => undefined);
    await until(() => server.core.openStreams() === 0 && server.core.aborted() === aborted + 1);
  });

  it('ends a stream that broke inside the gateway with one masked error, then completes', async () => {
    const { body } = await openSse();
    await until(() => server.core.openStreams() === 1);
    server.core.failAll(new Error('connect ECONNREFUSED 10.0.0.7:5432'));
    await body.ended;
    expect(body.text).toContain(
      'event: next\ndata: {"errors":[{"message":"Internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}\n\n',
    );
    expect(body.text).not.toContain('ECONNREFUSED');
    expect(body.text.endsWith('event: complete\ndata:\n\n')).toBe(true);
  });

  it('answers a refusal before the stream with JSON, its status and its code (no `http` extension)', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: SSE,
      body: JSON.stringify({ query: 'subscription Refused { secret }' }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({
      errors: [{ message: 'You are not allowed to do this', extensions: { code: 'FORBIDDEN' } }],
    });
  });

  it('refuses bad credentials with 401 before the stream starts', async () => {
    const calls = server.core.calls.length;
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { ...SSE, authorization: 'Bearer bad' },
      body: JSON.stringify({ query: TICKS }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { errors: Array<{ extensions: unknown }> }).errors[0]?.extensions).toEqual({
      code: 'UNAUTHENTICATED',
    });
    expect(server.core.calls.length).toBe(calls);
  });

  it('leaves queries, and subscriptions without a streaming Accept, to Apollo', async () => {
    const calls = server.core.calls.length;
    const query = await fetch(server.url, {
      method: 'POST',
      headers: SSE,
      body: JSON.stringify({ query: '{ hello }' }),
    });
    expect(query.status).not.toBe(500);
    await query.body?.cancel();
    const plain = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: TICKS }),
    });
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    await plain.body?.cancel();
    expect(server.core.calls.length).toBe(calls);
  });
});
