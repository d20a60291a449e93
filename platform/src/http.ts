import { withDeadline } from './deadline.ts';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { createLogger, logContextFromHeaders, runWithLogContext } from './logger.ts';
import { metricsRoute, type MetricsRouteOptions } from './metrics.ts';

const log = createLogger('http');

/** An error answered before GraphQL runs (bad body, missing internal token): status plus a GraphQL-shaped body. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;
  /** More `extensions` beside `code` (e.g. `retryAfterSeconds` of a 429). */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
    extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
    this.extensions = extensions;
  }
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface GraphQLHttpServerOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  /** Builds the request context; throw {@link HttpError} to answer without running GraphQL. */
  context: (req: IncomingMessage, body: unknown) => Promise<TContext>;
  /** Extra routes by exact path (e.g. `/health`, `/.well-known/jwks.json`). */
  routes?: Readonly<Record<string, RouteHandler>>;
  /** Requests with a larger body get 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Runs first on every request (CORS); return true when it answered the request itself. */
  preflight?: (req: IncomingMessage, res: ServerResponse) => boolean;
  graphqlPath?: string;
  /**
   * A GraphQL request that has no answer after this long (context included)
   * gets 504 `GATEWAY_TIMEOUT`, so a client never waits longer than the edge
   * promises. The work itself runs on (each subgraph fetch has its own, shorter
   * timeout). Default: none.
   */
  requestTimeoutMs?: number;
  /**
   * Answer 200 rather than 400 when a well-formed request fails parsing,
   * validation, operation resolution or variable coercion and the client
   * explicitly accepts `application/json`: the GraphQL-over-HTTP spec's SHOULD
   * for that media type (legacy clients read `errors` only from a 200).
   * `application/graphql-response+json`, a missing `Accept` and wildcards keep
   * Apollo's 4xx; malformed requests (`BAD_REQUEST`, CSRF refusals included)
   * keep their 400. Default: off (subgraphs keep answering the gateway 400s).
   */
  requestErrorsOkForJson?: boolean;
  /**
   * Called for every `graphqlPath` request once its body is read, before the
   * context and Apollo: return true when it answered the request itself. The
   * gateway streams subscriptions here (SSE, multipart), which Apollo Server
   * cannot; such a response lives as long as the stream, so `requestTimeoutMs`
   * does not bound it. Throw {@link HttpError} to refuse before streaming.
   */
  stream?: (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<boolean> | boolean;
  /**
   * `GET /metrics` (Prometheus text, the whole process's registry; see
   * `metricsRoute`), with who may read it. Default: served to everyone.
   * A route named `/metrics` in `routes` replaces it.
   */
  metrics?: MetricsRouteOptions;
}

/** The codes of GraphQL request errors (the request was well-formed, the operation was not). */
export const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_USER_INPUT',
]);

/**
 * A plain `node:http` server in front of Apollo Server: exact routes first,
 * then `/graphql` with a size-capped JSON body. Plain http keeps the hot path
 * free of middleware we do not need and lets every service share one shape.
 */
export function createGraphQLHttpServer<TContext extends BaseContext>(
  options: GraphQLHttpServerOptions<TContext>,
): http.Server {
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const graphqlPath = options.graphqlPath ?? '/graphql';
  const routes: Readonly<Record<string, RouteHandler>> = {
    '/metrics': metricsRoute(options.metrics),
    ...options.routes,
  };
  const server = http.createServer((req, res) => {
    // Every line logged while the request runs carries its trace id (and request id).
    runWithLogContext(logContextFromHeaders(req.headers), () => {
      void handle(req, res).catch((error: unknown) => {
        if (error instanceof HttpError) return sendError(res, error);
        log.error({ err: error }, 'unhandled error');
        sendError(res, new HttpError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'));
      });
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (options.preflight?.(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes[url.pathname];
    if (route) return route(req, res);
    if (url.pathname !== graphqlPath) {
      return sendError(res, new HttpError(404, 'NOT_FOUND', `No route ${url.pathname}`));
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const body = method === 'POST' ? await readJsonBody(req, maxBodyBytes) : undefined;
    if (await options.stream?.(req, res, body)) return;
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const execution = (async () => {
      const context = await options.context(req, body);
      return options.apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method, headers, search: url.search, body },
        context: async () => context,
      });
    })();
    const response = await withRequestTimeout(execution, options.requestTimeoutMs);
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (
      options.requestErrorsOkForJson &&
      res.statusCode === 400 &&
      response.body.kind === 'complete' &&
      /^application\/json\b/i.test(response.headers.get('content-type') ?? '') &&
      acceptsJsonExplicitly(req.headers.accept) &&
      isRequestErrorResult(response.body.string)
    ) {
      res.statusCode = 200;
    }
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }
  return server;
}

/** Resolves to `work`'s result, or rejects with 504 GATEWAY_TIMEOUT once `timeoutMs` has passed. */
async function withRequestTimeout<T>(work: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return work;
  return withDeadline(work, timeoutMs, () => {
    log.error({ timeoutMs }, `request gave up after ${timeoutMs} ms`);
    throw new HttpError(504, 'GATEWAY_TIMEOUT', 'The request took too long; try again later');
  });
}

/** True when `Accept` names `application/json` itself (not through a wildcard) with a non-zero quality. */
export function acceptsJsonExplicitly(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((range) => {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== 'application/json') return false;
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    return quality === undefined || Number(quality.slice(2)) > 0;
  });
}

/** A GraphQL response with no `data` whose every error is a request error (see {@link REQUEST_ERROR_CODES}). */
function isRequestErrorResult(text: string): boolean {
  try {
    const result = JSON.parse(text) as { data?: unknown; errors?: Array<{ extensions?: { code?: unknown } }> };
    if (result.data !== undefined || !Array.isArray(result.errors) || result.errors.length === 0) return false;
    return result.errors.every((error) => REQUEST_ERROR_CODES.has(String(error.extensions?.code)));
  } catch {
    return false;
  }
}

/** Reads and parses a JSON body, refusing more than `maxBytes` (413) or malformed JSON (400). */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      req.resume();
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const contentType = req.headers['content-type'] ?? '';
  if (!/^application\/(graphql-response\+)?json\b/i.test(contentType)) {
    // Apollo answers an unknown content type itself (and it is what CSRF prevention relies on).
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'Request body is not valid JSON');
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(value));
}

const sentErrorCodes = new WeakMap<ServerResponse, string>();

/** The `extensions.code` {@link sendError} answered `res` with, if it did (for request logs and metrics). */
export function sentErrorCode(res: ServerResponse): string | undefined {
  return sentErrorCodes.get(res);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sentErrorCodes.set(res, error.code);
  sendJson(
    res,
    error.status,
    { errors: [{ message: error.message, extensions: { ...error.extensions, code: error.code } }] },
    error.headers,
  );
}

/** Listens on `host:port` and resolves to the base URL (port 0 picks a free port). */
export async function listen(server: http.Server, port: number, host = '127.0.0.1'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

const drainingServers = new WeakSet<http.Server>();

/** True once {@link closeServer} began on `server`: its `/ready` answers 503 `draining` while in-flight requests finish. */
export function isDraining(server: http.Server): boolean {
  return drainingServers.has(server);
}

/** Stops accepting connections, lets in-flight requests finish (up to `graceMs`), then closes the rest. */
export async function closeServer(server: http.Server, graceMs = 10_000): Promise<void> {
  drainingServers.add(server);
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  timer.unref();
  await closed;
  clearTimeout(timer);
}
