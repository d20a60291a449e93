import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import {
  Kind,
  parse,
  type FieldNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { CryptoKey, KeyObject } from 'jose';
import { ANONYMOUS, INTERNAL_TOKEN_HEADER, signInternalToken, type Identity } from '@supergraph/platform';

/** What every subgraph fetch needs from the request context. */
export interface SubgraphFetchContext {
  identity: Identity;
  requestId: string;
  traceparent?: string;
  /** Internal tokens already signed in this request, by subgraph name. */
  internalTokens?: Map<string, Promise<string>>;
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

/**
 * A fetcher on Node's own `fetch` (undici, keep-alive connection pool) that
 * gives up after `timeoutMs`, so a slow subgraph costs a bounded wait.
 */
export function timeoutFetcher(timeoutMs: number): Fetcher {
  return async (url, init) => {
    const response = await fetch(url, {
      method: init?.method ?? 'POST',
      headers: init?.headers ?? {},
      ...(init?.body !== undefined ? { body: init.body } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return response as unknown as FetcherResponse;
  };
}

export interface SubgraphDataSourceOptions {
  name: string;
  url: string;
  internalTokenKey: CryptoKey | KeyObject;
  timeoutMs: number;
}

/**
 * One subgraph as the gateway calls it: every fetch carries a fresh internal
 * token for that subgraph (audience = its name), the request id and
 * `traceparent`, and nothing identity-like the client sent. A subgraph that is
 * down, slow or answers garbage becomes a SERVICE_UNAVAILABLE error at the
 * paths it should have filled, and the rest of the response still arrives.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<SubgraphFetchContext> {
  readonly subgraphName: string;
  readonly internalTokenKey: CryptoKey | KeyObject;

  constructor(options: SubgraphDataSourceOptions) {
    super({ url: options.url });
    this.subgraphName = options.name;
    this.internalTokenKey = options.internalTokenKey;
    this.fetcher = timeoutFetcher(options.timeoutMs);
  }

  override async willSendRequest({
    request,
    context,
  }: GraphQLDataSourceProcessOptions<SubgraphFetchContext>): Promise<void> {
    const headers = request.http?.headers;
    if (!headers) return;
    for (const name of IDENTITY_HEADERS) headers.delete(name);
    headers.set(INTERNAL_TOKEN_HEADER, await this.internalTokenFor(context));
    if (context?.requestId) headers.set('x-request-id', context.requestId);
    if (context?.traceparent) headers.set('traceparent', context.traceparent);
  }

  private internalTokenFor(context: Partial<SubgraphFetchContext> | undefined): Promise<string> {
    const identity = context?.identity ?? ANONYMOUS;
    if (!context) return signInternalToken(identity, this.subgraphName, this.internalTokenKey);
    context.internalTokens ??= new Map();
    let token = context.internalTokens.get(this.subgraphName);
    if (!token) {
      token = signInternalToken(identity, this.subgraphName, this.internalTokenKey);
      context.internalTokens.set(this.subgraphName, token);
    }
    return token;
  }

  override async process(
    options: GraphQLDataSourceProcessOptions<SubgraphFetchContext>,
  ): Promise<GatewayGraphQLResponse> {
    try {
      return await super.process(options);
    } catch (error) {
      const rejection = inputRejection(error);
      if (rejection) return { errors: failureErrors(options, rejection, 'BAD_USER_INPUT') };
      const reason = describeFailure(error);
      console.error(`[gateway] subgraph ${this.subgraphName} failed: ${reason.log}`);
      return { errors: failureErrors(options, `Service "${this.subgraphName}" ${reason.message}`) };
    }
  }
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
  const cause = (error as { cause?: { code?: string } } | null)?.cause?.code;
  if (error instanceof TypeError)
    return { message: 'is unavailable', log: `${error.message}${cause ? ` (${cause})` : ''}` };
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
