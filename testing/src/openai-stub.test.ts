import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAiStub, type OpenAiStub } from './openai-stub.ts';

let stub: OpenAiStub;
beforeAll(async () => {
  stub = await startOpenAiStub({ apiKey: 'sk-stub-key' });
});
afterAll(async () => {
  await stub.close();
});

function chat(body: unknown, apiKey = 'sk-stub-key'): Promise<Response> {
  return fetch(`${stub.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
}

/** The raw body as text. */
async function readRaw(response: Response): Promise<{ text: string }> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of response.body ?? []) text += decoder.decode(chunk, { stream: true });
  return { text: text + decoder.decode() };
}

describe('startOpenAiStub', () => {
  it('streams OpenAI chunks: a role chunk, content deltas, an empty finish chunk, [DONE], blank lines between', async () => {
    const response = await chat({
      model: 'stub-echo',
      stream: true,
      messages: [{ role: 'user', content: 'Hi there' }],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { text } = await readRaw(response);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const events = text.split('\n\n').filter((event) => event !== '');
    expect(events.every((event) => event.startsWith('data: '))).toBe(true);
    const chunks = events
      .slice(0, -1)
      .map((event) => JSON.parse(event.slice('data: '.length)) as Record<string, unknown>);
    expect(chunks.map((chunk) => (chunk['choices'] as unknown[])[0])).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: 'Hi ' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: 'there' }, logprobs: null, finish_reason: null },
      { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' },
    ]);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: 'chat.completion.chunk', model: 'stub-echo' });
      expect(chunk['id']).toMatch(/^chatcmpl-/);
      expect(typeof chunk['created']).toBe('number');
    }
  });

  it('splits some events across writes inside a multi-byte character, without corrupting it', async () => {
    const words = Array.from({ length: 20 }, (_, index) => `café${index}`).join(' ');
    const response = await chat({ model: 'stub-echo', stream: true, messages: [{ role: 'user', content: words }] });
    const { text } = await readRaw(response);
    // Cut inside the é of every other event: the bytes arrive intact all the same (how many reads it took is the
    // network's business, so it is not asserted).
    for (let index = 0; index < 20; index += 1) expect(text).toContain(`"content":"café${index}`);
    expect(text).not.toContain('\ufffd');
  });

  it('answers a whole chat.completion without stream', async () => {
    const response = await chat({ model: 'stub-echo', messages: [{ role: 'user', content: 'Hi there' }] });
    expect(await response.json()).toMatchObject({
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there' }, finish_reason: 'stop' }],
    });
  });

  it('lists its models', async () => {
    const response = await fetch(`${stub.url}/models`, { headers: { authorization: 'Bearer sk-stub-key' } });
    const list = (await response.json()) as { object: string; data: { id: string }[] };
    expect(list.object).toBe('list');
    expect(list.data.map((model) => model.id)).toContain('stub-echo');
  });

  it('refuses a wrong key with OpenAI’s 401 body and records every request', async () => {
    const before = stub.requests.length;
    const response = await chat({ model: 'stub-echo', stream: true, messages: [] }, 'sk-wrong-key-123456');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key' } });
    expect(stub.requests[before]).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      body: { model: 'stub-echo', stream: true, messages: [] },
    });
  });

  it('answers the error scenarios with their status and OpenAI error bodies', async () => {
    for (const [model, status] of [
      ['stub-error-401', 401],
      ['stub-error-429', 429],
      ['stub-error-500', 500],
      ['unknown-model', 404],
    ] as const) {
      const response = await chat({ model, stream: true, messages: [{ role: 'user', content: 'x' }] });
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error: { message: string; type: string } };
      expect(typeof body.error.message).toBe('string');
    }
  });

  it('ends stub-disconnect without [DONE] and sends an error event for stub-midstream-error', async () => {
    const disconnect = await chat({
      model: 'stub-disconnect',
      stream: true,
      messages: [{ role: 'user', content: 'a b c' }],
    });
    const partial = await readRaw(disconnect).then(
      () => 'completed',
      (error: unknown) => (error instanceof Error ? 'failed' : 'odd'),
    );
    expect(partial).toBe('failed');
    const midstream = await chat({
      model: 'stub-midstream-error',
      stream: true,
      messages: [{ role: 'user', content: 'a' }],
    });
    const { text } = await readRaw(midstream);
    expect(text).toContain('data: {"error":{"message":');
    expect(text).not.toContain('[DONE]');
  });
});
