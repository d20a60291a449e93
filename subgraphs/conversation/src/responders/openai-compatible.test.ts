import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deadUrl, startOpenAiStub, type OpenAiStub } from '@supergraph/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAiCompatibleResponder } from './openai-compatible.ts';
import { ResponderError, type Passage, type ResponderRequest } from './responder.ts';

const API_KEY = 'sk-test-0123456789abcdefSECRET';

const passages: Passage[] = [
  { id: 'k1', source: 'knowledge', title: 'Black hole', text: 'A region nothing escapes.', rank: 0.9 },
  { id: 'r7', source: 'unit', unitId: 'physics', title: 'Event horizon', text: 'The boundary of no return.', rank: 3 },
];

let stub: OpenAiStub;
beforeAll(async () => {
  stub = await startOpenAiStub({ apiKey: API_KEY, slowChunkDelayMs: 2_000 });
});
afterAll(async () => {
  await stub.close();
});

function request(overrides: Partial<ResponderRequest> & { model?: string; baseUrl?: string } = {}): ResponderRequest {
  const { model = 'stub-echo', baseUrl = stub.url, ...rest } = overrides;
  return {
    droid: { id: 'd1', name: 'Vega', persona: 'A patient astronomy tutor.', baseUrl, model },
    prompt: 'What is a black hole, naïvely? 🚀',
    history: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello! Ask me about space.' },
    ],
    passages,
    apiKey: API_KEY,
    signal: new AbortController().signal,
    ...rest,
  };
}

async function collect(iterable: AsyncIterable<string>, tokens: string[] = []): Promise<string[]> {
  for await (const token of iterable) tokens.push(token);
  return tokens;
}

/** The ResponderError the reply fails with (the test fails if it succeeds or throws anything else). */
async function failure(iterable: AsyncIterable<string>, tokens: string[] = []): Promise<ResponderError> {
  const error = await collect(iterable, tokens).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ResponderError);
  return error as ResponderError;
}

/** Everything an engine might store of an error: message, reason, and the same of every cause below it. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 10; depth += 1) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '', JSON.stringify(current), String(current));
      if (current instanceof ResponderError) parts.push(current.reason);
      current = current.cause;
    } else {
      parts.push(JSON.stringify(current) ?? String(current));
      current = undefined;
    }
  }
  return parts.join('\n');
}

const responder = createOpenAiCompatibleResponder();

describe('OpenAI-compatible responder against the stub', () => {
  it('streams the provider’s content deltas exactly and returns the finish reason', async () => {
    const generator = responder.respond(request());
    const tokens: string[] = [];
    let result = await generator.next();
    while (!result.done) {
      tokens.push(result.value);
      result = await generator.next();
    }
    expect(tokens).toEqual(['What ', 'is ', 'a ', 'black ', 'hole, ', 'naïvely? ', '🚀']);
    expect(result.value).toEqual({ finishReason: 'stop' });
  });

  it('sends model, stream: true, the system message with persona and numbered passages, the history and the prompt', async () => {
    const before = stub.requests.length;
    await collect(createOpenAiCompatibleResponder({ maxTokens: 256 }).respond(request()));
    const sent = stub.requests[before];
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(sent?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent?.headers['content-type']).toBe('application/json');
    const body = sent?.body as { model: string; stream: boolean; max_tokens: number; messages: unknown[] };
    expect(body).toMatchObject({ model: 'stub-echo', stream: true, max_tokens: 256 });
    expect(body.messages).toHaveLength(4);
    expect(body.messages.slice(1)).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello! Ask me about space.' },
      { role: 'user', content: 'What is a black hole, naïvely? 🚀' },
    ]);
    const system = body.messages[0] as { role: string; content: string };
    expect(system.role).toBe('system');
    expect(system.content).toMatch(/^You are Vega\. A patient astronomy tutor\./);
    expect(system.content).toContain('[1] Black hole (knowledge:k1)\nA region nothing escapes.');
    expect(system.content).toContain('[2] Event horizon (unit:physics:r7)\nThe boundary of no return.');
    expect(system.content).toMatch(/cite it with its number in square brackets, like \[1\]/);
  });

  it('tells the model honestly when there are no passages', async () => {
    const before = stub.requests.length;
    await collect(responder.respond(request({ passages: [] })));
    const body = stub.requests[before]?.body as { messages: { content: string }[] };
    expect(body.messages[0]?.content).toContain('No context passages were found');
    expect(body.messages[0]?.content).not.toContain('[1]');
  });

  it('joins the base URL with or without a trailing slash, and sends no Authorization without a key', async () => {
    const open = await startOpenAiStub();
    try {
      await collect(responder.respond(request({ baseUrl: `${open.url}/`, apiKey: null })));
      await collect(responder.respond(request({ baseUrl: open.url, apiKey: null })));
      expect(open.requests.map((sent) => sent.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
      expect(open.requests[0]?.headers.authorization).toBeUndefined();
    } finally {
      await open.close();
    }
  });

  it('surfaces finish_reason length (a reply cut at the token limit is still a reply)', async () => {
    const generator = responder.respond(request({ model: 'stub-length', prompt: 'one two' }));
    const first = await generator.next();
    expect(first.value).toBe('one ');
    expect(await generator.next()).toEqual({ done: false, value: 'two' });
    expect(await generator.next()).toEqual({ done: true, value: { finishReason: 'length' } });
  });

  it.each([
    ['stub-error-401', 'provider rejected the request (401 invalid_api_key)'],
    ['stub-error-429', 'provider rate limited (429 rate_limit_exceeded)'],
    ['stub-error-500', 'provider error (500)'],
    ['no-such-model', 'provider rejected the request (404 model_not_found)'],
  ])('turns an HTTP error (%s) into a safe reason', async (model, reason) => {
    const error = await failure(responder.respond(request({ model })));
    expect(error.reason).toBe(reason);
    expect(error.message).toBe(reason);
  });

  it('turns a wrong key into a rejection, never repeating the key the provider quotes back', async () => {
    const wrongKey = 'sk-wrong-9876543210zyxwvuSECRET';
    const error = await failure(responder.respond(request({ apiKey: wrongKey })));
    expect(error.reason).toBe('provider rejected the request (401 invalid_api_key)');
    expect(errorText(error)).not.toContain(wrongKey);
    expect(errorText(error)).not.toContain('zyxw');
  });

  it('fails a stream that ends without [DONE] (the provider disconnected) after what it streamed', async () => {
    const tokens: string[] = [];
    const error = await failure(responder.respond(request({ model: 'stub-disconnect' })), tokens);
    expect(error.reason).toBe('provider stream ended unexpectedly');
    expect(tokens).toEqual(['What ', 'is ']);
  });

  it('fails with the provider’s message on a mid-stream error event', async () => {
    const tokens: string[] = [];
    const error = await failure(responder.respond(request({ model: 'stub-midstream-error' })), tokens);
    expect(error.reason).toBe(
      'provider error: The server had an error while processing your request. Sorry about that!',
    );
    expect(tokens).toEqual(['What ']);
  });

  it('reports a provider nobody listens on as unreachable, and one whose name does not resolve too', async () => {
    const dead = (await deadUrl()).replace(/\/graphql$/, '/v1');
    expect((await failure(responder.respond(request({ baseUrl: dead })))).reason).toBe('provider unreachable');
    const unresolvable = 'http://provider.invalid/v1';
    expect((await failure(responder.respond(request({ baseUrl: unresolvable })))).reason).toBe('provider unreachable');
  });

  it('times out a provider that sends no first byte in time', async () => {
    const impatient = createOpenAiCompatibleResponder({ firstByteTimeoutMs: 100 });
    const error = await failure(impatient.respond(request({ model: 'stub-slow' })));
    expect(error.reason).toBe('provider timed out');
  });

  it('times out a reply that takes longer than the whole-reply bound', async () => {
    const hurried = createOpenAiCompatibleResponder({ timeoutMs: 100 });
    const error = await failure(hurried.respond(request({ model: 'stub-slow' })));
    expect(error.reason).toBe('provider timed out');
  });

  it('times out a reply that starts in time but outlasts the whole-reply bound', async () => {
    // 40 words at 50 ms each take 2 s; the bound is 300 ms, the first byte alone may take 30 s.
    const trickling = await startOpenAiStub({ slowChunkDelayMs: 50 });
    try {
      const prompt = Array.from({ length: 40 }, (_, index) => `w${index}`).join(' ');
      const hurried = createOpenAiCompatibleResponder({ timeoutMs: 300 });
      const error = await failure(hurried.respond(request({ baseUrl: trickling.url, model: 'stub-slow', prompt })));
      expect(error.reason).toBe('provider timed out');
    } finally {
      await trickling.close();
    }
  });

  it('refuses a key no header can carry without quoting it (undici would)', async () => {
    const before = stub.requests.length;
    const error = await failure(responder.respond(request({ apiKey: `${API_KEY}\nInjected: yes` })));
    expect(error.reason).toBe('the provider API key contains characters an HTTP header cannot carry');
    expect(errorText(error)).not.toContain(API_KEY);
    expect(stub.requests.length).toBe(before);
  });

  it('stops promptly when cancelled mid-stream', async () => {
    const controller = new AbortController();
    const tokens: string[] = [];
    const streaming = (async () => {
      for await (const token of responder.respond(request({ signal: controller.signal }))) {
        tokens.push(token);
        if (tokens.length === 2) controller.abort();
      }
    })();
    await expect(streaming).rejects.toMatchObject({ name: 'ResponderError', reason: 'cancelled' });
    expect(tokens).toEqual(['What ', 'is ']);
  });

  it('stops promptly when cancelled while waiting for a slow provider', async () => {
    const controller = new AbortController();
    const waiting = failure(responder.respond(request({ model: 'stub-slow', signal: controller.signal })));
    // Cancel once the stub has the request: the 2 s per chunk keep the reply from finishing first.
    const before = stub.requests.length;
    await expect.poll(() => stub.requests.length, { timeout: 10_000 }).toBeGreaterThan(before);
    controller.abort();
    expect((await waiting).reason).toBe('cancelled');
  });

  it('refuses a request already cancelled without calling the provider', async () => {
    const controller = new AbortController();
    controller.abort();
    const before = stub.requests.length;
    expect((await failure(responder.respond(request({ signal: controller.signal })))).reason).toBe('cancelled');
    expect(stub.requests.length).toBe(before);
  });

  it('never puts the key in any error it throws, whatever the failure', async () => {
    const dead = (await deadUrl()).replace(/\/graphql$/, '/v1');
    const cases: Partial<ResponderRequest & { model: string; baseUrl: string }>[] = [
      { model: 'stub-error-401' },
      { model: 'stub-error-429' },
      { model: 'stub-error-500' },
      { model: 'stub-disconnect' },
      { model: 'stub-midstream-error' },
      { baseUrl: dead },
      { baseUrl: 'http://provider.invalid/v1' },
      { apiKey: `${API_KEY}-other` },
      { apiKey: `${API_KEY}\u00e9` },
    ];
    for (const overrides of cases) {
      const error = await failure(responder.respond(request(overrides)));
      expect(errorText(error)).not.toContain(API_KEY);
      expect(errorText(error)).not.toContain('SECRET');
    }
  });

  it('refuses bad droid configuration with a clear reason before any request', async () => {
    const before = stub.requests.length;
    const reasons = await Promise.all(
      [
        request({ baseUrl: '' }),
        request({ baseUrl: 'not a url' }),
        request({ baseUrl: 'ftp://example.com/v1' }),
        request({ baseUrl: 'http://user:pass@127.0.0.1/v1' }),
        request({ model: '  ' }),
      ].map(async (bad) => (await failure(responder.respond(bad))).reason),
    );
    expect(reasons).toEqual([
      'the droid has no provider base URL',
      'the provider base URL is not a valid URL',
      'the provider base URL must be http or https',
      'the provider base URL must not contain credentials',
      'the droid has no provider model configured',
    ]);
    expect(stub.requests.length).toBe(before);
  });
});

describe('OpenAI-compatible responder against odd servers', () => {
  let server: Server;
  let base: string;
  let redirectedTo = 0;
  beforeAll(async () => {
    server = createServer((incoming, response) => {
      if (incoming.url === '/redirect/v1/chat/completions') {
        response.writeHead(307, { location: `${base}/elsewhere` });
        return response.end();
      }
      if (incoming.url?.startsWith('/elsewhere')) {
        redirectedTo += 1;
        return response.end();
      }
      if (incoming.url === '/json/v1/chat/completions') {
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end(
          JSON.stringify({
            choices: [{ index: 0, message: { role: 'assistant', content: 'Whole.' }, finish_reason: 'stop' }],
          }),
        );
      }
      if (incoming.url === '/html/v1/chat/completions') {
        response.writeHead(200, { 'content-type': 'text/html' });
        return response.end('<h1>captive portal</h1>');
      }
      if (incoming.url === '/crlf/v1/chat/completions') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        // Comments, CRLF, a multi-line data event, no [DONE] but a finish_reason, then a clean close.
        const delta = (content: string) => JSON.stringify({ choices: [{ index: 0, delta: { content } }] });
        response.write(`: keep-alive\r\n\r\ndata: ${delta('A')}\r\n\r\n`);
        response.write(`data: {"choices":[{"index":0,\r\ndata: "delta":{"content":"B"}}]}\r\n\r\n`);
        response.end(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\r\n\r\n`);
        return;
      }
      if (incoming.url === '/garbage/v1/chat/completions') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        return response.end('data: {not json\n\n');
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('does not follow redirects', async () => {
    const error = await failure(responder.respond(request({ baseUrl: `${base}/redirect/v1` })));
    expect(error.reason).toBe('provider redirected the request (307); configure the final URL as the base URL');
    expect(redirectedTo).toBe(0);
  });

  it('accepts a server that ignores stream: true and answers a whole chat.completion', async () => {
    expect(await collect(responder.respond(request({ baseUrl: `${base}/json/v1` })))).toEqual(['Whole.']);
  });

  it('refuses a reply that is neither an event stream nor JSON', async () => {
    const error = await failure(responder.respond(request({ baseUrl: `${base}/html/v1` })));
    expect(error.reason).toBe('provider sent an unexpected reply');
  });

  it('parses comments, CRLF and multi-line data, and accepts a clean end after finish_reason', async () => {
    expect(await collect(responder.respond(request({ baseUrl: `${base}/crlf/v1` })))).toEqual(['A', 'B']);
  });

  it('fails a malformed event with a safe reason', async () => {
    const error = await failure(responder.respond(request({ baseUrl: `${base}/garbage/v1` })));
    expect(error.reason).toBe('provider sent a malformed stream');
  });
});
