import { ResponderError, type Passage, type ResponderRequest } from './responder.ts';
import type { StreamingResponder } from './streaming-responder.ts';
import { SseParser, type ServerSentEvent } from './sse-parser.ts';

export interface OpenAiCompatibleResponderOptions {
  /** The whole reply, request to `[DONE]`. Default 120 s (long answers from slow local models). */
  timeoutMs?: number;
  /** Until the first byte of the streamed body (a model loading, a provider queueing). Default 30 s. */
  firstByteTimeoutMs?: number;
  /** Sent as `max_tokens` when given; the provider's default otherwise. */
  maxTokens?: number;
  /** The HTTP client; global `fetch` (undici) unless a test or a proxy setup needs another. */
  fetchImpl?: typeof fetch;
}

/** Bigger error bodies are not read: only `error.code`/`error.type` are used. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** A provider's mid-stream error message is shown to the user, so it is kept short. */
const MAX_PROVIDER_MESSAGE_CHARS = 300;

type Interruption = 'cancelled' | 'timeout';

/**
 * A responder over any OpenAI-compatible chat-completions server (OpenAI,
 * Ollama, vLLM, llama.cpp, ...): `POST {baseUrl}/chat/completions` with
 * `stream: true`, the droid's persona and the passages (numbered, to be cited
 * as `[n]`) as the system message, then the history and the prompt. Every
 * failure is a `ResponderError` whose reason a user may read: it never holds
 * the API key, the base URL or the provider's raw body, and its cause is at
 * most the network error (which names neither). Redirects are refused, not
 * followed (a redirect could carry the key's request elsewhere).
 *
 * The generator returns `{ finishReason }` (`stop`, `length` when the reply was
 * cut at the token limit, ...) to a caller that reads it; `for await` ignores it.
 *
 * @example
 * const responder = createOpenAiCompatibleResponder({ timeoutMs: 60_000 });
 * for await (const token of responder.respond(request)) append(token);
 */
export function createOpenAiCompatibleResponder(options: OpenAiCompatibleResponderOptions = {}): StreamingResponder {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const firstByteTimeoutMs = options.firstByteTimeoutMs ?? 30_000;
  const fetchImpl = options.fetchImpl ?? fetch;

  return {
    kind: 'OPENAI_COMPATIBLE',
    async *respond(request) {
      const url = chatCompletionsUrl(request.droid.baseUrl);
      const model = request.droid.model?.trim();
      if (!model) throw new ResponderError('the droid has no provider model configured');
      // undici's refusal of a bad header value quotes the value: the key. Refuse it here, naming nothing.
      if (request.apiKey && !/^[\x21-\x7e]+$/.test(request.apiKey)) {
        throw new ResponderError('the provider API key contains characters an HTTP header cannot carry');
      }
      if (request.signal.aborted) throw new ResponderError('cancelled');

      // One controller for the HTTP exchange: the caller's cancel and both timers abort it, `interruption` says why.
      const controller = new AbortController();
      let interruption: Interruption | undefined;
      const interrupt = (why: Interruption) => {
        interruption ??= why;
        controller.abort();
      };
      const onCancel = () => interrupt('cancelled');
      request.signal.addEventListener('abort', onCancel, { once: true });
      const totalTimer = setTimeout(() => interrupt('timeout'), timeoutMs);
      let firstByteTimer: NodeJS.Timeout | undefined = setTimeout(() => interrupt('timeout'), firstByteTimeoutMs);
      const interrupted = (cause?: unknown) =>
        new ResponderError(interruption === 'cancelled' ? 'cancelled' : 'provider timed out', { cause });

      try {
        let response: Response;
        try {
          response = await fetchImpl(url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'text/event-stream',
              ...(request.apiKey ? { authorization: `Bearer ${request.apiKey}` } : {}),
            },
            body: JSON.stringify({
              model,
              stream: true,
              messages: chatMessages(request),
              ...(options.maxTokens === undefined ? {} : { max_tokens: options.maxTokens }),
            }),
            redirect: 'manual',
            signal: controller.signal,
          });
        } catch (error) {
          if (interruption) throw interrupted();
          throw connectionError(error);
        }

        if (response.status < 200 || response.status > 299 || response.type === 'opaqueredirect') {
          throw await httpError(response);
        }
        const contentType = response.headers.get('content-type') ?? '';
        if (response.body === null) throw new ResponderError('provider stream ended unexpectedly');
        if (/^application\/json\b/i.test(contentType)) {
          // A server that ignored `stream: true` and answered a whole `chat.completion`.
          const completion = await readJson(response, Number.POSITIVE_INFINITY).catch((error: unknown) => {
            throw interruption
              ? interrupted()
              : new ResponderError('provider sent a malformed reply', { cause: error });
          });
          const choice = firstChoice(completion);
          const content = choice?.message?.content;
          if (typeof content !== 'string') throw providerErrorOf(completion, request.apiKey) ?? malformed();
          if (content !== '') yield content;
          return { finishReason: finishReasonOf(choice) };
        }
        if (!/^text\/event-stream\b/i.test(contentType)) throw new ResponderError('provider sent an unexpected reply');

        const parser = new SseParser();
        let finishReason: string | null = null;
        let isDone = false;
        const reader = response.body.getReader();
        try {
          while (!isDone) {
            let read: Awaited<ReturnType<typeof reader.read>>;
            try {
              read = await reader.read();
            } catch (error) {
              if (interruption) throw interrupted();
              throw new ResponderError('provider stream ended unexpectedly', { cause: networkCause(error) });
            }
            if (firstByteTimer !== undefined) {
              clearTimeout(firstByteTimer);
              firstByteTimer = undefined;
            }
            const events: ServerSentEvent[] = read.done ? parser.end() : parser.push(read.value);
            for (const event of events) {
              if (event.data === '[DONE]') {
                isDone = true;
                break;
              }
              const chunk = parseChunk(event.data, request.apiKey);
              const choice = firstChoice(chunk);
              const content = choice?.delta?.content;
              if (typeof content === 'string' && content !== '') yield content;
              if (request.signal.aborted) throw interrupted();
              finishReason = finishReasonOf(choice) ?? finishReason;
            }
            if (read.done) {
              // A server that closes cleanly after the finish chunk but omits `[DONE]` has still said it finished.
              if (!isDone && finishReason === null) throw new ResponderError('provider stream ended unexpectedly');
              break;
            }
          }
        } finally {
          // Done, failed or abandoned by the consumer: release the connection either way.
          await reader.cancel().catch(() => {});
        }
        if (finishReason === 'content_filter') throw new ResponderError('provider withheld the reply (content_filter)');
        return { finishReason };
      } finally {
        clearTimeout(totalTimer);
        clearTimeout(firstByteTimer);
        request.signal.removeEventListener('abort', onCancel);
        controller.abort();
      }
    },
  };
}

/**
 * The messages sent: one system message (who the droid is, the passages as
 * numbered context with their ids, how to cite), the earlier turns, the prompt.
 */
export function chatMessages(request: ResponderRequest): { role: 'system' | 'user' | 'assistant'; content: string }[] {
  return [
    { role: 'system', content: systemMessage(request) },
    ...request.history.map((turn) => ({ role: turn.role, content: turn.content })),
    { role: 'user', content: request.prompt },
  ];
}

function systemMessage({ droid, passages }: ResponderRequest): string {
  const persona = droid.persona.trim();
  const identity = `You are ${droid.name}.${persona === '' ? '' : ` ${persona}`}`;
  if (passages.length === 0) {
    return (
      `${identity}\n\nNo context passages were found for this question in your knowledge scope. ` +
      'Say so plainly, and do not invent sources or citations.'
    );
  }
  const context = passages.map((passage, index) => `[${index + 1}] ${contextHeading(passage)}\n${passage.text.trim()}`);
  return (
    `${identity}\n\nAnswer using the numbered context passages below. After each statement taken from a passage, ` +
    'cite it with its number in square brackets, like [1]. If the passages do not contain the answer, say so ' +
    `plainly instead of guessing.\n\nContext:\n\n${context.join('\n\n')}`
  );
}

function contextHeading(passage: Passage): string {
  const title = passage.title.replace(/\s+/g, ' ').trim();
  const reference =
    passage.source === 'unit' ? `unit:${passage.unitId ?? 'unknown'}:${passage.id}` : `knowledge:${passage.id}`;
  return `${title} (${reference})`;
}

/** `{baseUrl}/chat/completions`, whether the base ends in `/` or not; only http(s), never with credentials. */
function chatCompletionsUrl(baseUrl: string | null): URL {
  if (baseUrl === null || baseUrl.trim() === '') throw new ResponderError('the droid has no provider base URL');
  let base: URL;
  try {
    base = new URL(baseUrl.trim());
  } catch {
    throw new ResponderError('the provider base URL is not a valid URL');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ResponderError('the provider base URL must be http or https');
  }
  if (base.username !== '' || base.password !== '') {
    throw new ResponderError('the provider base URL must not contain credentials');
  }
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
  base.hash = '';
  return new URL('chat/completions', base);
}

/** Why a fetch failed before any response, from the network error's `code` (undici nests it in `cause`). */
function connectionError(error: unknown): ResponderError {
  const code = codeOf(error);
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT') {
    return new ResponderError('provider timed out', { cause: networkCause(error) });
  }
  return new ResponderError('provider unreachable', { cause: networkCause(error) });
}

/**
 * A cause safe to store: a system error's code and message (`connect
 * ECONNREFUSED 127.0.0.1:11434`), rebuilt so no request object or header can
 * ride along deeper in the original chain. Errors without a code (undici's
 * own, which may quote a header) keep only a generic message.
 */
function networkCause(error: unknown): Error {
  const code = codeOf(error);
  let deepest: unknown = error;
  while (deepest instanceof Error && deepest.cause instanceof Error) deepest = deepest.cause;
  const message = code !== undefined && deepest instanceof Error ? deepest.message : 'network error';
  return Object.assign(new Error(message), { code });
}

function codeOf(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/** A non-2xx answer as a reason: the status and OpenAI's error code (or type), never the message or body. */
async function httpError(response: Response): Promise<ResponderError> {
  const { status } = response;
  if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
    await response.body?.cancel().catch(() => {});
    return new ResponderError(
      `provider redirected the request (${status || 'redirect'}); configure the final URL as the base URL`,
    );
  }
  const body = await readJson(response, MAX_ERROR_BODY_BYTES).catch(() => undefined);
  const error = isRecord(body) && isRecord(body['error']) ? body['error'] : undefined;
  const label = safeCode(error?.['code']) ?? safeCode(error?.['type']);
  const detail = label === undefined ? `${status}` : `${status} ${label}`;
  if (status === 429) return new ResponderError(`provider rate limited (${detail})`);
  if (status >= 400 && status < 500) return new ResponderError(`provider rejected the request (${detail})`);
  return new ResponderError(`provider error (${status})`);
}

/** A provider's code or type as shown: identifier characters only, short. */
function safeCode(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : undefined;
}

async function readJson(response: Response, maxBytes: number): Promise<unknown> {
  if (response.body === null) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => {});
      throw new Error('body too large');
    }
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

interface Choice {
  delta?: { content?: unknown };
  message?: { content?: unknown };
  finish_reason?: unknown;
}

/** One `data:` event: a chunk, or an `{"error":...}` event whose message becomes the reason. */
function parseChunk(data: string, apiKey: string | null): unknown {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    throw malformed();
  }
  const error = providerErrorOf(chunk, apiKey);
  if (error) throw error;
  return chunk;
}

function firstChoice(value: unknown): Choice | undefined {
  if (!isRecord(value) || !Array.isArray(value['choices'])) return undefined;
  const choice: unknown = value['choices'][0];
  return isRecord(choice) ? (choice as Choice) : undefined;
}

function finishReasonOf(choice: Choice | undefined): string | null {
  return typeof choice?.finish_reason === 'string' ? choice.finish_reason : null;
}

/**
 * `{"error":{"message":...}}` as a reason. The message is the provider's
 * words, shown to the user: one line, cut short, and stripped of anything
 * shaped like a key (OpenAI quotes a masked key in some messages).
 */
function providerErrorOf(value: unknown, apiKey: string | null): ResponderError | undefined {
  if (!isRecord(value) || !('error' in value)) return undefined;
  const error = value['error'];
  const message = isRecord(error) && typeof error['message'] === 'string' ? error['message'] : '';
  const cleaned = (apiKey ? message.replaceAll(apiKey, '[redacted]') : message)
    .replace(/[\p{Cc}\s]+/gu, ' ')
    .replace(/\b(?:sk|pk|rk|key|api[-_]?key)[-_][\w*.-]{4,}/gi, '[redacted]')
    .replace(/[A-Za-z0-9_*-]{32,}/g, '[redacted]')
    .trim()
    .slice(0, MAX_PROVIDER_MESSAGE_CHARS);
  return new ResponderError(cleaned === '' ? 'provider error' : `provider error: ${cleaned}`);
}

function malformed(): ResponderError {
  return new ResponderError('provider sent a malformed stream');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
