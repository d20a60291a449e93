import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import {
  Kind,
  OperationTypeNode,
  parse,
  type FieldNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { CryptoKey, KeyObject } from 'jose';
import {
  ANONYMOUS,
  createLogger,
  INTERNAL_TOKEN_HEADER,
  isTelemetryEnabled,
  metrics,
  type Identity,
} from '@supergraph/platform';
import { createInFlight, type InFlight } from './in-flight.ts';
import { createInternalTokenCache, identityFingerprint, type InternalTokenCache } from './internal-token-cache.ts';
import {
  createSubgraphHttpClient,
  type SubgraphHttpClient,
  type SubgraphHttpResponse,
} from './subgraph-http-client.ts';

/** What every subgraph fetch needs from the request context. */
export interface SubgraphFetchContext {
  identity: Identity;
  requestId: string;
  traceparent?: string;
}

/**
 * Headers that carry identity or trust between services. Only the gateway sets
 * them; anything a client sent under these names never reaches a subgraph.
 */
export const IDENTITY_HEADERS = [
  INTERNAL_TOKEN_HEADER,
  'x-user-id',
  'x-user-roles',
  'x-user-scopes',
  'x-user-tier',
  'x-forwarded-user',
  'authorization',
  'x-api-key',
  'x-session-token',
  'cookie',
] as const;
const IDENTITY_HEADER_SET: ReadonlySet<string> = new Set(IDENTITY_HEADERS);
const log = createLogger('gateway');

export interface SubgraphDataSourceOptions {
  name: string;
  url: string;
  /** Signs internal tokens; ignored when `internalTokens` is given. */
  internalTokenKey: CryptoKey | KeyObject;
  /** Shared by every subgraph of a gateway (one LRU); a private one over `internalTokenKey` otherwise. */
  internalTokens?: InternalTokenCache;
  timeoutMs: number;
  /**
   * Identical query fetches in flight at once (same subgraph, same identity,
   * same body) share one HTTP exchange; each caller still parses its own copy
   * of the answer. Never for mutations. Default true.
   */
  dedup?: boolean;
}

/**
 * One subgraph as the gateway calls it: every fetch carries an internal token
 * for that subgraph (audience = its name, reused per identity until shortly
 * before expiry), the request id and the trace context, and nothing identity-like
 * the client sent. A subgraph that is down, slow or answers garbage becomes a
 * SERVICE_UNAVAILABLE error at the paths it should have filled, and the rest
 * of the response still arrives.
 */
export class SubgraphDataSource implements GraphQLDataSource<SubgraphFetchContext> {
  readonly subgraphName: string;
  readonly url: string;
  #tokens: InternalTokenCache;
  #http: SubgraphHttpClient;
  #inFlight: InFlight<SubgraphHttpResponse> | undefined;

  constructor(options: SubgraphDataSourceOptions) {
    this.subgraphName = options.name;
    this.url = options.url;
    this.#tokens = options.internalTokens ?? createInternalTokenCache({ key: options.internalTokenKey });
    this.#http = createSubgraphHttpClient(options.url, options.timeoutMs);
    this.#inFlight = (options.dedup ?? true) ? createInFlight() : undefined;
  }

  /** Closes the keep-alive connections (the gateway's `stop`). */
  close(): Promise<void> {
    return this.#http.close();
  }

  async process(options: GraphQLDataSourceProcessOptions<SubgraphFetchContext>): Promise<GatewayGraphQLResponse> {
    const startedAt = performance.now();
    try {
      const { exchange, body } = await this.#exchange(options);
      if (exchange.status < 200 || exchange.status > 299) throw new SubgraphResponseError(exchange.status, body);
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new Error(`Expected JSON response body, but received: ${String(body)}`);
      restrictCachePolicy(options, exchange.headers['cache-control']);
      return body as GatewayGraphQLResponse;
    } catch (error) {
      const rejection = inputRejection(error);
      if (rejection) return { errors: failureErrors(options, rejection, 'BAD_USER_INPUT') };
      const reason = describeFailure(error);
      log.error({ subgraph: this.subgraphName }, `subgraph ${this.subgraphName} failed: ${reason.log}`);
      return { errors: failureErrors(options, `Service "${this.subgraphName}" ${reason.message}`) };
    } finally {
      const seconds = (performance.now() - startedAt) / 1000;
      metrics.subgraphFetchDuration.observe({ subgraph: this.subgraphName }, seconds);
    }
  }

  /**
   * The HTTP exchange and its parsed body. A shared (in-flight deduplicated)
   * exchange is parsed once: the executor mutates what it receives, so every
   * caller but one gets a copy, and the one that gets the parsed original is
   * the last to resume, after every copy was taken (copying parsed JSON is
   * ~3x cheaper than parsing it again).
   */
  async #exchange(
    options: GraphQLDataSourceProcessOptions<SubgraphFetchContext>,
  ): Promise<{ exchange: SubgraphHttpResponse; body: unknown }> {
    const { pending: shared, deduplicated } = this.#send(options);
    if (!deduplicated) {
      const exchange = await shared;
      return { exchange, body: parseBody(exchange) };
    }
    this.#waiting.set(shared, (this.#waiting.get(shared) ?? 0) + 1);
    const exchange = await shared;
    const left = this.#waiting.get(shared)! - 1;
    this.#waiting.set(shared, left);
    let parsed = this.#parsed.get(exchange);
    if (!parsed) this.#parsed.set(exchange, (parsed = { body: parseBody(exchange) }));
    return { exchange, body: left === 0 ? parsed.body : copyJson(parsed.body) };
  }

  /** Callers waiting on each deduplicated exchange. */
  #waiting = new WeakMap<Promise<SubgraphHttpResponse>, number>();
  #parsed = new WeakMap<SubgraphHttpResponse, { body: unknown }>();

  /** The exchange for `options`: its own, or (`deduplicated`) one shared with identical fetches in flight. */
  #send(options: GraphQLDataSourceProcessOptions<SubgraphFetchContext>): {
    pending: Promise<SubgraphHttpResponse>;
    deduplicated: boolean;
  } {
    const { request, context } = options;
    if (!request.query) throw new Error('Missing query');
    const { http, ...payload } = request;
    const body = JSON.stringify(payload);
    const identity = (context as Partial<SubgraphFetchContext> | undefined)?.identity ?? ANONYMOUS;
    const forwarded: Record<string, string> = {};
    // Only Apollo's own headers arrive here (e.g. the federated-tracing request); never a client's.
    for (const [name, value] of http?.headers ?? []) if (!IDENTITY_HEADER_SET.has(name)) forwarded[name] = value;
    const send = async () => {
      const headers: Record<string, string> = {
        ...forwarded,
        'content-type': 'application/json',
        [INTERNAL_TOKEN_HEADER]: await this.#tokens.tokenFor(identity, this.subgraphName),
      };
      if (context?.requestId) headers['x-request-id'] = context.requestId;
      // With telemetry on, the undici instrumentation sends the active span's context (a child of Apollo's
      // `gateway.fetch`, itself under the server span that continued the client's trace); a header of ours
      // would be a second, conflicting `traceparent`. Off, the client's own header is passed on as it came.
      if (context?.traceparent && !isTelemetryEnabled()) headers['traceparent'] = context.traceparent;
      return this.#http.post(headers, body);
    };
    if (!this.#inFlight || !isQuery(options)) return { pending: send(), deduplicated: false };
    // The first caller's x-request-id/traceparent go out; the identity (hence the token) is the same for all.
    const group = `${identityFingerprint(identity)}\n${JSON.stringify(forwarded)}`;
    return { pending: this.#inFlight.run(body, send, group), deduplicated: true };
  }
}

/** A subgraph's non-2xx answer, shaped like Apollo's (`extensions.response`) so the masking rules below read it. */
class SubgraphResponseError extends Error {
  readonly extensions: { response: { status: number; body: unknown } };
  constructor(status: number, body: unknown) {
    super(`${status}`);
    this.extensions = { response: { status, body } };
  }
}

/** JSON for a JSON content type (a non-2xx body that is not JSON stays text, for the log); text otherwise. */
function parseBody(exchange: SubgraphHttpResponse): unknown {
  const contentType = exchange.headers['content-type'];
  if (!contentType?.startsWith('application/json') && !contentType?.startsWith('application/graphql-response+json'))
    return exchange.text;
  if (exchange.status >= 200 && exchange.status <= 299) return JSON.parse(exchange.text);
  try {
    return JSON.parse(exchange.text);
  } catch {
    return exchange.text;
  }
}

/** A copy of parsed JSON (objects, arrays, primitives), an own `__proto__` key kept as data. */
export function copyJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index++) copy[index] = copyJson(value[index]);
    return copy;
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = copyJson((value as Record<string, unknown>)[key]);
    if (key === '__proto__')
      Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    else copy[key] = item;
  }
  return copy;
}

/** Only query operations are shared in flight: the plan's document says so, else the text does. */
function isQuery(options: GraphQLDataSourceProcessOptions<SubgraphFetchContext>): boolean {
  const document = 'document' in options ? options.document : undefined;
  if (document) {
    const operations = document.definitions.filter(
      (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
    );
    return operations.length === 1 && operations[0]?.operation === OperationTypeNode.QUERY;
  }
  return /^\s*(?:query\b|\{)/.test(options.request.query ?? '');
}

/** A subgraph's `Cache-Control` narrows the response's cache policy, as Apollo's RemoteGraphQLDataSource does. */
function restrictCachePolicy(
  options: GraphQLDataSourceProcessOptions<SubgraphFetchContext>,
  header: string | undefined,
): void {
  const policy = 'incomingRequestContext' in options ? options.incomingRequestContext.overallCachePolicy : undefined;
  if (!policy || !('restrict' in policy)) return;
  const hint: { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } = { maxAge: 0 };
  for (const part of header?.trim().split(/\s*,\s*/) ?? []) {
    const [name, raw] = part.split(/\s*=\s*/, 2);
    const value = raw?.replace(/^"|"$/g, '');
    if (name === 'max-age' && value !== undefined && /^[0-9]+$/.test(value)) hint.maxAge = Number(value);
    if (name === 'private' && value === undefined) hint.scope = 'PRIVATE';
    if (name === 'public' && value === undefined) hint.scope = 'PUBLIC';
  }
  policy.restrict(hint as Parameters<typeof policy.restrict>[0]);
}

/**
 * graphql-js's own wording for a value that did not coerce: a variable
 * (`Variable "$at" got invalid value …`) or a literal (`Expected value of type
 * "DateTime!", found …`). Only these are the client's mistake; anything else a
 * subgraph answers with a 400 is its own failure and may quote SQL or stacks.
 */
const COERCION_MESSAGE = /^(?:Variable "\$[_A-Za-z]\w*" |Expected value of type "[^"\n]{1,200}", found )[^\n]{1,500}$/;

/** Longest excerpt of a failed subgraph response body written to the log. */
const MAX_LOGGED_BODY = 500;

/**
 * The message of a 400 a subgraph sent because the client's input did not fit
 * (a custom scalar the gateway cannot check, e.g. an invalid `DateTime`
 * variable); null for any other failure, whose text never reaches the client.
 */
function inputRejection(error: unknown): string | null {
  const response = responseOf(error);
  if (response?.status !== 400) return null;
  const errors = (response.body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return null;
  const first = errors[0] as { message?: unknown; extensions?: { code?: unknown } } | null;
  const code = first?.extensions?.code;
  if (code !== 'BAD_USER_INPUT' && code !== 'GRAPHQL_VALIDATION_FAILED') return null;
  return typeof first?.message === 'string' && COERCION_MESSAGE.test(first.message) ? first.message : null;
}

function responseOf(error: unknown): { status?: number; body?: unknown } | undefined {
  return (error as { extensions?: { response?: { status?: number; body?: unknown } } } | null)?.extensions?.response;
}

function describeFailure(error: unknown): { message: string; log: string } {
  const name = (error as { name?: string } | null)?.name;
  const response = responseOf(error);
  if (name === 'TimeoutError' || name === 'AbortError') return { message: 'timed out', log: 'timeout' };
  if (response?.status !== undefined) {
    const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body ?? '');
    return { message: 'failed', log: `HTTP ${response.status}: ${body.slice(0, MAX_LOGGED_BODY)}` };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return { message: 'timed out', log: 'timeout' };
  // Connection refused or reset, DNS, sockets: undici's errors carry the system or UND_ERR_* code.
  if (typeof code === 'string' && error instanceof Error)
    return { message: 'is unavailable', log: `${error.message} (${code})` };
  return { message: 'failed', log: error instanceof Error ? error.message : String(error) };
}

/** More errors than this for one failed fetch are folded into one per entity. */
const MAX_FAILURE_ERRORS = 100;

/**
 * Errors for a failed fetch with the paths it was meant to fill: each
 * requested field of each entity (`['_entities', i, field]`, which the gateway
 * maps onto the entity's place in the response) for entity fetches, or each
 * top-level response key for root fetches.
 */
function failureErrors(
  options: GraphQLDataSourceProcessOptions<SubgraphFetchContext>,
  message: string,
  code = 'SERVICE_UNAVAILABLE',
): GraphQLFormattedError[] {
  const extensions = { code };
  const operation = operationOf(options);
  const representations = options.request.variables?.['representations'];
  if (Array.isArray(representations)) {
    const fieldsByType = entityFieldsByType(operation);
    const paths = representations.flatMap((representation: unknown, index) => {
      const typename = (representation as { __typename?: unknown } | null)?.__typename;
      const fields = typeof typename === 'string' ? (fieldsByType.get(typename) ?? []) : [];
      return fields.length > 0 ? fields.map((field) => ['_entities', index, field]) : [['_entities', index]];
    });
    const chosen = paths.length <= MAX_FAILURE_ERRORS ? paths : representations.map((_, index) => ['_entities', index]);
    return chosen.map((path) => ({ message, path, extensions }));
  }
  const keys = responseKeys(operation?.selectionSet);
  return keys.length > 0 ? keys.map((key) => ({ message, path: [key], extensions })) : [{ message, extensions }];
}

function operationOf(
  options: GraphQLDataSourceProcessOptions<SubgraphFetchContext>,
): OperationDefinitionNode | undefined {
  try {
    const document = ('document' in options ? options.document : undefined) ?? parse(options.request.query ?? '');
    return document.definitions.find(
      (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
    );
  } catch {
    return undefined;
  }
}

function responseKeys(selectionSet: SelectionSetNode | undefined): string[] {
  return (selectionSet?.selections ?? []).flatMap((selection) =>
    selection.kind === Kind.FIELD && !selection.name.value.startsWith('__')
      ? [selection.alias?.value ?? selection.name.value]
      : [],
  );
}

/** For `_entities(...) { ... on User { a b } }`: User → [a, b]. */
function entityFieldsByType(operation: OperationDefinitionNode | undefined): Map<string, string[]> {
  const result = new Map<string, string[]>();
  const entities = operation?.selectionSet.selections.find(
    (selection): selection is FieldNode => selection.kind === Kind.FIELD && selection.name.value === '_entities',
  );
  for (const selection of entities?.selectionSet?.selections ?? []) {
    if (selection.kind !== Kind.INLINE_FRAGMENT || !selection.typeCondition) continue;
    const typename = selection.typeCondition.name.value;
    result.set(typename, [...(result.get(typename) ?? []), ...responseKeys(selection.selectionSet)]);
  }
  return result;
}
