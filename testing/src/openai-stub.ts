import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The models the stub serves; the model name picks the scenario, so a droid
 * configured with one (its `provider.model`) exercises it end to end.
 */
export const OPENAI_STUB_MODELS = [
  /** Streams the last user message back, a word and its trailing whitespace per chunk: tests assert the exact tokens. */
  'stub-echo',
  /** Like `stub-echo`, but ends with `finish_reason: "length"` (the reply hit `max_tokens`). */
  'stub-length',
  /** Like `stub-echo`, waiting `slowChunkDelayMs` before every chunk (the first included). */
  'stub-slow',
  /** 401 with OpenAI's error body, code `invalid_api_key`. */
  'stub-error-401',
  /** 429 with `retry-after` and code `rate_limit_exceeded`. */
  'stub-error-429',
  /** 500, type `server_error`. */
  'stub-error-500',
  /** A few chunks, then the socket is destroyed: no finish chunk, no `[DONE]`. */
  'stub-disconnect',
  /** One content chunk, then a `data: {"error":{...}}` event and the end of the response (no `[DONE]`). */
  'stub-midstream-error',
] as const;

export interface OpenAiStubOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`, else 401 `invalid_api_key` (like OpenAI). */
  apiKey?: string;
  /** `stub-slow`'s pause before each chunk. Default 200 ms. */
  slowChunkDelayMs?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, parsed; null without one (or when it is not JSON). */
  body: unknown;
}

export interface OpenAiStub {
  /** The API base a droid is configured with: `http://127.0.0.1:<port>/v1`. */
  url: string;
  /** Every request received, in order (also the refused ones). */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

interface ChatBody {
  model?: unknown;
  stream?: unknown;
  messages?: unknown;
}

/**
 * A real HTTP server speaking OpenAI's chat-completions wire protocol, for
 * the provider the conversation subgraph cannot reach in tests: `POST
 * /v1/chat/completions` streaming (`text/event-stream`, chunks shaped exactly
 * like OpenAI's: a role chunk, content deltas, an empty-delta chunk with
 * `finish_reason`, `data: [DONE]`) or not (`chat.completion` JSON), and `GET
 * /v1/models`. Some events are written in two pieces cut at an odd byte
 * (inside a UTF-8 sequence when there is one) so clients' parsers meet real
 * chunk boundaries.
 *
 * @example
 * const stub = await startOpenAiStub({ apiKey: 'sk-test' });
 * // a droid with baseUrl stub.url and model 'stub-echo' answers with the prompt
 * await stub.close();
 */
export async function startOpenAiStub(options: OpenAiStubOptions = {}): Promise<OpenAiStub> {
  const requests: RecordedRequest[] = [];
  const slowChunkDelayMs = options.slowChunkDelayMs ?? 200;
  let sequence = 0;
  let eventsWritten = 0;

  const server = createServer((request, response) => {
    void handle(request, response).catch(() => response.destroy());
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    let body: unknown = null;
    try {
      body = raw === '' ? null : JSON.parse(raw);
    } catch {
      body = null;
    }
    const path = request.url ?? '/';
    requests.push({ method: request.method ?? 'GET', path, headers: request.headers, body });

    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      const message =
        given === undefined
          ? "You didn't provide an API key."
          : `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`;
      return sendError(response, 401, message, 'invalid_request_error', 'invalid_api_key');
    }
    if (request.method === 'GET' && path === '/v1/models') {
      return sendJson(response, 200, {
        object: 'list',
        data: OPENAI_STUB_MODELS.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'supergraph' })),
      });
    }
    if (path !== '/v1/chat/completions') {
      return sendError(response, 404, `Invalid URL (${request.method} ${path})`, 'invalid_request_error', null);
    }
    if (request.method !== 'POST') {
      return sendError(response, 405, `Method ${request.method} not allowed`, 'invalid_request_error', null);
    }
    const chat = (typeof body === 'object' && body !== null ? body : {}) as ChatBody;
    if (typeof chat.model !== 'string' || !Array.isArray(chat.messages)) {
      return sendError(response, 400, 'model and messages are required.', 'invalid_request_error', null);
    }
    const model = chat.model;
    switch (model) {
      case 'stub-error-401':
        return sendError(response, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
      case 'stub-error-429':
        response.setHeader('retry-after', '20');
        return sendError(response, 429, 'Rate limit reached for requests.', 'requests', 'rate_limit_exceeded');
      case 'stub-error-500':
        return sendError(response, 500, 'The server had an error while processing your request.', 'server_error', null);
    }
    if (!(OPENAI_STUB_MODELS as readonly string[]).includes(model)) {
      return sendError(
        response,
        404,
        `The model \`${model}\` does not exist or you do not have access to it.`,
        'invalid_request_error',
        'model_not_found',
      );
    }

    const tokens = echoTokens(chat.messages);
    const id = `chatcmpl-stub${(sequence += 1).toString().padStart(6, '0')}`;
    const created = Math.floor(Date.now() / 1000);
    const finishReason = model === 'stub-length' ? 'length' : 'stop';
    if (chat.stream !== true) {
      return sendJson(response, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: tokens.join('') },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage: { prompt_tokens: 1, completion_tokens: tokens.length, total_tokens: 1 + tokens.length },
      });
    }

    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    response.flushHeaders();
    const chunk = (delta: Record<string, string>, finish: string | null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_stub',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    const send = async (event: unknown) => {
      if (model === 'stub-slow') await sleep(slowChunkDelayMs);
      eventsWritten += 1;
      const text = `data: ${typeof event === 'string' ? event : JSON.stringify(event)}\n\n`;
      await writeEvent(response, text, eventsWritten % 2 === 1);
    };

    await send(chunk({ role: 'assistant', content: '' }, null));
    if (model === 'stub-disconnect') {
      for (const token of tokens.slice(0, 2)) await send(chunk({ content: token }, null));
      response.socket?.destroy();
      return;
    }
    if (model === 'stub-midstream-error') {
      await send(chunk({ content: tokens[0] ?? 'Hello' }, null));
      await send({
        error: {
          message: 'The server had an error while processing your request. Sorry about that!',
          type: 'server_error',
          param: null,
          code: null,
        },
      });
      response.end();
      return;
    }
    for (const token of tokens) await send(chunk({ content: token }, null));
    await send(chunk({}, finishReason));
    await send('[DONE]');
    response.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The last user message's words with their trailing whitespace; a placeholder when there is none. */
function echoTokens(messages: unknown[]): string[] {
  const last = messages.findLast(
    (message): message is { role: 'user'; content: string } =>
      typeof message === 'object' &&
      message !== null &&
      (message as { role?: unknown }).role === 'user' &&
      typeof (message as { content?: unknown }).content === 'string',
  );
  const tokens = last?.content.match(/\S+\s*/g) ?? [];
  return tokens.length > 0 ? tokens : ['(empty)'];
}

/**
 * Writes one event, in two pieces cut at an odd byte when `split`, a
 * millisecond apart: back-to-back writes would reach the client as one read,
 * the pause makes them separate TCP segments (TCP_NODELAY is on), as a real
 * network does. Usually, not always: a busy client may still read both at once.
 */
async function writeEvent(response: ServerResponse, event: string, split: boolean): Promise<void> {
  const bytes = Buffer.from(event, 'utf8');
  if (!split || bytes.length < 8) return write(response, bytes);
  // Inside a multi-byte character when the event has one, else about a third in.
  const multiByte = bytes.findIndex((byte) => byte >= 0xc0);
  const cut = multiByte !== -1 ? multiByte + 1 : Math.floor(bytes.length / 3) | 1;
  await write(response, bytes.subarray(0, cut));
  await sleep(1);
  await write(response, bytes.subarray(cut));
}

function write(response: ServerResponse, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (response.destroyed) return reject(new Error('response destroyed'));
    response.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** OpenAI's error body: `{"error":{"message","type","param","code"}}`. */
function sendError(response: ServerResponse, status: number, message: string, type: string, code: string | null) {
  sendJson(response, status, { error: { message, type, param: null, code } });
}

/** Like OpenAI's messages: the key's first and last characters around stars (`sk-te*****2345`). */
function maskKey(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 5)}${'*'.repeat(key.length - 9)}${key.slice(-4)}`;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
