import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectBody, startScriptedServer, until, type ScriptedServer } from './scripted-core.test-support.ts';

const TICKS = 'subscription Ticks { tick }';
/** What Apollo Client 4 sends for a subscription. */
const APOLLO_ACCEPT =
  'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/graphql-response+json,application/json;q=0.9';
const MULTIPART = { 'content-type': 'application/json', accept: APOLLO_ACCEPT };
const PART = '\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n';
const END = '\r\n--graphql--\r\n';

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer({ multipartHeartbeatMs: 50 });
});
afterAll(() => server.close());

/** The multipart body without its heartbeat parts (`{}`), which arrive whenever the stream idles. */
function withoutHeartbeats(text: string): string {
  return text.replaceAll(`${PART}{}`, '');
}

async function openMultipart(headers: Record<string, string> = MULTIPART) {
  const response = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify({ query: TICKS }) });
  return { response, body: collectBody(response) };
}

describe("Apollo's multipart subscription protocol", () => {
  it('wraps each result as `{"payload": …}` in its own part and ends with the closing delimiter', async () => {
    const { response, body } = await openMultipart();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    await until(() => server.core.openStreams() === 1);
    server.core.emit({ data: { tick: 1 } });
    server.core.emit({ data: null, errors: [{ message: 'nope', extensions: { code: 'FORBIDDEN' } }] });
    server.core.endAll();
    await body.ended;
    expect(withoutHeartbeats(body.text)).toBe(
      `${PART}{"payload":{"data":{"tick":1}}}` +
        `${PART}{"payload":{"data":null,"errors":[{"message":"nope","extensions":{"code":"FORBIDDEN"}}]}}` +
        END,
    );
  });

  it('writes each part together with the delimiter after it, so a reader can hand it over at once', async () => {
    const { body } = await openMultipart();
    await until(() => server.core.openStreams() === 1);
    server.core.emit({ data: { tick: 7 } });
    await until(() => body.text.includes('{"payload":{"data":{"tick":7}}}'));
    await until(() => body.text.endsWith('\r\n--graphql'));
    server.core.endAll();
    await body.ended;
  });

  it.each([
    'multipart/mixed;subscriptionSpec="1.0"',
    'multipart/mixed;subscriptionSpec=1.0',
    'multipart/mixed;deferSpec=20220824;subscriptionSpec=1.0,application/json',
  ])('is chosen for Accept %s', async (accept) => {
    const { response, body } = await openMultipart({ 'content-type': 'application/json', accept });
    expect(response.headers.get('content-type')).toMatch(/^multipart\/mixed;boundary="graphql"/);
    await until(() => server.core.openStreams() === 1);
    server.core.endAll();
    await body.ended;
  });

  it('sends `{}` heartbeat parts while idle', async () => {
    const { body } = await openMultipart();
    await until(() => body.text.split(`${PART}{}`).length > 3);
    server.core.endAll();
    await body.ended;
    expect(body.text.endsWith(END)).toBe(true);
  });

  it('ends a broken stream with a transport-level error part (`payload: null`), masked', async () => {
    const { body } = await openMultipart();
    await until(() => server.core.openStreams() === 1);
    server.core.failAll(new Error('socket hang up at 10.0.0.7'));
    await body.ended;
    expect(withoutHeartbeats(body.text)).toBe(
      `${PART}{"payload":null,"errors":[{"message":"Internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}${END}`,
    );
  });

  it('aborts the stream when the client goes away', async () => {
    const aborted = server.core.aborted();
    const controller = new AbortController();
    const response = await fetch(server.url, {
      method: 'POST',
      headers: MULTIPART,
      body: JSON.stringify({ query: TICKS }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    await until(() => server.core.openStreams() === 1);
    controller.abort();
    await until(() => server.core.openStreams() === 0 && server.core.aborted() === aborted + 1);
  });

  it('answers a refusal before the stream as a GraphQL response with its status and code', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: MULTIPART,
      body: JSON.stringify({ query: 'subscription Refused { secret }' }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(await response.json()).toEqual({
      errors: [{ message: 'You are not allowed to do this', extensions: { code: 'FORBIDDEN' } }],
    });
  });

  it('refuses bad credentials with 401 before the stream starts', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { ...MULTIPART, authorization: 'Bearer bad' },
      body: JSON.stringify({ query: TICKS }),
    });
    expect(response.status).toBe(401);
    await response.body?.cancel();
  });
});
