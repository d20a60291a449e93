import type { GraphQLDataSource, ServiceMap } from '@apollo/gateway';
import { buildOperationContext } from '@apollo/gateway/dist/operationContext.js';
import { operationFromDocument } from '@apollo/federation-internals';
import type { FetchNode, PlanNode, QueryPlan } from '@apollo/query-planner';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import {
  GraphQLError,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values.js';
import { LRUCache } from 'lru-cache';
import {
  createLogger,
  currentTraceparent,
  HttpError,
  isTelemetryEnabled,
  type Identity,
  type RevocationList,
} from '@supergraph/platform';
import { supergraphForQueryPlanner } from '../access-control.ts';
import {
  compileOperation,
  executeCompiled,
  type CompiledOperation,
  type OperationContext,
} from '../executor/operation.ts';
import { createPlanning, type Planning } from '../executor/planning.ts';
import type { InternalTokenCache } from '../internal-token-cache.ts';
import type { PersistedDocuments } from '../persisted-documents.ts';
import type { SubgraphFetchContext } from '../subgraph-data-source.ts';
import { operationResolutionProblem, resolveOperation } from '../operation-resolution.ts';
import { valueCompletionErrors } from '../value-completion.ts';
import type { SubscriptionCore, SubscriptionSession } from './core.ts';
import { createSubscriptionDocuments } from './documents.ts';
import { EventStream } from './event-stream.ts';
import { refusal, toGraphQLError } from './results.ts';
import { createRevocationWatch } from './revocation-watch.ts';
import { createUpstreams, type UpstreamFailure } from './upstream.ts';

const log = createLogger('gateway');

/** The service name the primary fetch takes in each event's plan: a data source answering with that event. */
const EVENT_SOURCE = '__subscription_event__';
/** setTimeout's longest delay; a later expiry re-arms. */
const MAX_TIMER_MS = 2_147_483_647;

export interface SubscriptionCoreOptions {
  /** The parsed supergraph (the one the gateway serves). */
  supergraph: DocumentNode;
  /** The gateway's planner and schemas; built from `supergraph` when not given. */
  planning?: Planning;
  /** `@authenticated` / `@requiresScopes` over the operation (the gateway's `createAccessControl(...).check`). */
  checkAccess(document: DocumentNode, operation: OperationDefinitionNode, identity: Identity): void;
  /** Further refusals after validation and before planning (the admin IP allowlist plugin), run as Apollo would. */
  plugins?: ReadonlyArray<ApolloServerPlugin<{ identity: Identity }>>;
  /** The gateway's operation limits: throws HttpError on a breach. */
  checkLimits(query: string, variables: Readonly<Record<string, unknown>> | undefined): void;
  /** Parses with the same token limit as every other document. */
  maxTokens: number;
  persistedDocuments: Pick<PersistedDocuments, 'resolve' | 'apq'>;
  /** Subgraph name → the URL the gateway calls (its `ws://` twin carries subscriptions). */
  subgraphUrls: ReadonlyMap<string, string>;
  /** Subgraph name → the gateway's own data source: entity fetches of every event run through it. */
  dataSources: ReadonlyMap<string, GraphQLDataSource<SubgraphFetchContext>>;
  internalTokens: InternalTokenCache;
  /** Masks each event's errors as HTTP responses are masked (`formatGatewayError`). */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  /** "Did you mean …?" in validation errors. */
  fieldSuggestions: boolean;
  /** False: every subscription is answered SUBSCRIPTIONS_NOT_SUPPORTED. Default true. */
  enabled?: boolean;
  /** Prepared (validated, planned) operations kept, by text and name. Default 500. */
  planCacheSize?: number;
  /**
   * Revocations auth publishes: an open stream whose user or session is
   * revoked after it opened (logout, logoutEverywhere, password change,
   * deactivation, role or tier change, an API key revoked) ends with
   * `UNAUTHENTICATED` within `revocationCheckMs`, as a new request with the
   * same credential would be refused.
   */
  revocations?: RevocationList | undefined;
  /** How often open streams are checked against `revocations`. Default 1,000 ms. */
  revocationCheckMs?: number;
}

/** The gateway's subscription core, with the upstream socket count tests prove leaks with. */
export interface GatewaySubscriptionCore extends SubscriptionCore {
  /** Upstream (subgraph) sockets open right now: one per open stream, none after it ends. */
  upstreamSockets(): number;
}

interface Prepared {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationContext: OperationContext;
  primary: FetchNode;
  /** `Sequence [primary (served by the event), rest]`, compiled: what completes one event. */
  eventPlan: CompiledOperation;
}

/**
 * Builds the {@link SubscriptionCore} of one gateway. A subscription is
 * planned by the query planner like any operation; its plan's primary fetch
 * becomes a graphql-ws subscription on the owning subgraph (one socket per
 * client subscription, carrying an internal token for the subscriber), and
 * every event runs the rest of the plan through `@apollo/gateway`'s own
 * executor, the primary fetch answered by the event itself, so entity fields
 * of other subgraphs resolve on every event through the normal fetch path.
 */
export function createSubscriptionCore(options: SubscriptionCoreOptions): GatewaySubscriptionCore {
  const planning = options.planning ?? createPlanning(supergraphForQueryPlanner(options.supergraph));
  const { apiSchema, apiGraphQLSchema, planner } = planning;
  const hasSubscriptions = (options.enabled ?? true) && apiGraphQLSchema.getSubscriptionType() !== undefined;
  const prepared = new LRUCache<string, Prepared>({ max: options.planCacheSize ?? 500 });
  const documents = createSubscriptionDocuments({
    persistedDocuments: options.persistedDocuments,
    maxTokens: options.maxTokens,
    cacheSize: options.planCacheSize ?? 500,
  });
  // The HTTP path's data sources by name, once: each event adds only its own source.
  const dataSources: ServiceMap = Object.fromEntries(options.dataSources);
  const upstreams = createUpstreams();
  const streams = new Set<EventStream>();
  const revocationWatch = createRevocationWatch(options.revocations, options.revocationCheckMs);
  let closed = false;

  /** Parses, validates, resolves the operation and plans it; cached by text and name. */
  function prepare(query: string, operationName: string | null | undefined): Prepared | ExecutionResult {
    const key = `${operationName ?? ''}\n${query}`;
    const cached = prepared.get(key);
    if (cached) return cached;
    const document = documents.parse(query);
    if (document instanceof GraphQLError) return refusal('GRAPHQL_PARSE_FAILED', document.message);
    const operation = resolveOperation(document, operationName);
    if (!operation) return refusal('OPERATION_RESOLUTION_FAILURE', operationResolutionProblem(document, operationName));
    if (operation.operation !== 'subscription')
      return refusal('BAD_REQUEST', 'Only subscriptions run here: use HTTP for queries and mutations');
    if (!hasSubscriptions)
      return refusal(
        'SUBSCRIPTIONS_NOT_SUPPORTED',
        options.enabled === false ? 'Subscriptions are disabled on this gateway' : 'This graph has no subscriptions',
      );
    const errors = validate(apiGraphQLSchema, document);
    if (errors.length > 0) {
      return {
        errors: errors.map(
          (error) =>
            new GraphQLError(
              options.fieldSuggestions ? error.message : error.message.replace(/ ?Did you mean(.+?)\?$/, ''),
              { nodes: error.nodes ?? null, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
            ),
        ),
      };
    }
    let plan: QueryPlan;
    try {
      const planned = operationFromDocument(apiSchema, document, {
        ...(operationName ? { operationName } : {}),
        validate: false,
      });
      plan = planner.buildQueryPlan(planned);
    } catch (error) {
      log.error(`could not plan a subscription: ${error instanceof Error ? error.message : String(error)}`);
      return refusal('INTERNAL_SERVER_ERROR', 'Internal server error');
    }
    const node = plan.node;
    if (node?.kind !== 'Subscription') return refusal('INTERNAL_SERVER_ERROR', 'Internal server error');
    const operationContext = buildOperationContext({
      schema: apiGraphQLSchema,
      operationDocument: document,
      ...(operationName ? { operationName } : {}),
    });
    const eventPlan: QueryPlan = {
      kind: 'QueryPlan',
      node: {
        kind: 'Sequence',
        nodes: [{ ...node.primary, serviceName: EVENT_SOURCE }, ...(node.rest ? [node.rest] : [])] as PlanNode[],
      },
    };
    let compiled: CompiledOperation;
    try {
      compiled = compileOperation(planning, apiGraphQLSchema, eventPlan, operationContext);
    } catch (error) {
      log.error(`could not compile a subscription: ${error instanceof Error ? error.message : String(error)}`);
      return refusal('INTERNAL_SERVER_ERROR', 'Internal server error');
    }
    const entry: Prepared = { document, operation, operationContext, primary: node.primary, eventPlan: compiled };
    prepared.set(key, entry);
    return entry;
  }

  async function checkOperation(entry: Prepared, identity: Identity): Promise<ExecutionResult | undefined> {
    try {
      options.checkAccess(entry.document, entry.operation, identity);
      for (const plugin of options.plugins ?? []) {
        const listener = await plugin.requestDidStart?.({} as never);
        await listener?.didResolveOperation?.({
          document: entry.document,
          operation: entry.operation,
          contextValue: { identity },
        } as never);
      }
      return undefined;
    } catch (error) {
      if (error instanceof GraphQLError && typeof error.extensions['code'] === 'string')
        return refusal(error.extensions['code'], error.message);
      throw error;
    }
  }

  /** Runs one event through the rest of the plan and masks what it answers. */
  async function completeEvent(
    entry: Prepared,
    event: ExecutionResult,
    variables: Record<string, unknown>,
    context: SubgraphFetchContext,
  ): Promise<ExecutionResult> {
    const eventSource: GraphQLDataSource = {
      process: async () => ({
        ...(event.data !== undefined ? { data: event.data } : {}),
        ...(event.errors ? { errors: event.errors } : {}),
      }),
    };
    const serviceMap: ServiceMap = { ...dataSources, [EVENT_SOURCE]: eventSource };
    const requestContext = {
      request: { variables },
      context,
      logger: console,
      metrics: {},
      overallCachePolicy: undefined,
    } as unknown as GatewayGraphQLRequestContext;
    // The HTTP path's executor, so entity fetches, shaping and error paths are the same.
    const result = await executeCompiled(entry.eventPlan, serviceMap, requestContext, isTelemetryEnabled());
    return formatResult(result, entry.primary.serviceName);
  }

  function formatResult(result: ExecutionResult, subgraph: string): ExecutionResult {
    const errors = (result.errors ?? []).map((error) => {
      const formatted = error instanceof GraphQLError ? error.toJSON() : (error as GraphQLFormattedError);
      const extensions =
        formatted.extensions?.['serviceName'] === EVENT_SOURCE
          ? { ...formatted.extensions, serviceName: subgraph }
          : formatted.extensions;
      return options.formatError({ ...formatted, ...(extensions ? { extensions } : {}) }, error);
    });
    const reports = result.extensions?.['valueCompletion'];
    if (reports !== undefined) errors.push(...valueCompletionErrors(reports));
    return {
      ...(result.data !== undefined ? { data: result.data } : {}),
      ...(errors.length > 0 ? { errors: errors.map(toGraphQLError) } : {}),
    };
  }

  function failureResult(failure: UpstreamFailure, subgraph: string): ExecutionResult {
    if (failure.kind === 'errors') return formatResult({ errors: failure.errors } as ExecutionResult, subgraph);
    log.error({ subgraph }, `subscription upstream ${subgraph} ended: ${failure.reason}`);
    return refusal('SERVICE_UNAVAILABLE', `Service "${subgraph}" is unavailable`);
  }

  function openStream(
    entry: Prepared,
    variables: Record<string, unknown>,
    session: SubscriptionSession,
    signal: AbortSignal,
  ): EventStream {
    const subgraph = entry.primary.serviceName;
    const context: SubgraphFetchContext = {
      identity: session.identity,
      requestId: session.requestId,
      ...(session.traceparent ? { traceparent: session.traceparent } : {}),
    };
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => stream.end();
    const stream: EventStream = new EventStream(() => {
      streams.delete(stream);
      revocationWatch.forget(stream);
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      void upstream.close();
    });
    streams.add(stream);
    revocationWatch.watch(stream, session.identity);
    signal.addEventListener('abort', onAbort, { once: true });
    const expiresAt = session.credentialExpiresAt;
    if (expiresAt !== undefined) {
      const arm = () => {
        const delay = expiresAt - Date.now();
        if (delay <= 0) stream.end(refusal('UNAUTHENTICATED', 'Access token expired'));
        else timer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS));
      };
      timer = setTimeout(arm, Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMER_MS));
    }
    const upstreamVariables = Object.fromEntries(
      (entry.primary.variableUsages ?? []).filter((name) => name in variables).map((name) => [name, variables[name]]),
    );
    // Events complete one after another, in order; an end waits for the events before it.
    let chain = Promise.resolve();
    const then = (work: () => Promise<void> | void) => {
      chain = chain.then(work).catch((error: unknown) => {
        log.error(`a subscription event failed: ${error instanceof Error ? error.message : String(error)}`);
        stream.end(refusal('INTERNAL_SERVER_ERROR', 'Internal server error'));
      });
    };
    const upstream = upstreams.open(
      {
        url: options.subgraphUrls.get(subgraph) ?? '',
        connectionParams: async () => ({
          internalToken: await options.internalTokens.tokenFor(session.identity, subgraph),
          requestId: session.requestId,
        }),
        query: entry.primary.operation,
        variables: upstreamVariables,
        operationName: entry.primary.operationName,
        // The gateway's span when telemetry records one (SSE and multipart run under the request's), else the client's header.
        traceparent: currentTraceparent() ?? session.traceparent,
      },
      {
        next: (event) =>
          then(async () => {
            if (stream.ended) return;
            // The subgraph refused the subscription itself (its resolver threw): one result, and the stream ends.
            if ((event.data === null || event.data === undefined) && event.errors?.length) {
              stream.end(formatResult(event as ExecutionResult, subgraph));
              return;
            }
            const result = await completeEvent(entry, event as ExecutionResult, variables, context);
            stream.push(result);
          }),
        complete: () => then(() => stream.end()),
        error: (failure) => then(() => stream.end(failureResult(failure, subgraph))),
      },
    );
    if (signal.aborted) stream.end();
    return stream;
  }

  return {
    async subscribe(request, session, signal) {
      if (closed) return refusal('SERVICE_UNAVAILABLE', 'The gateway is shutting down');
      const query = await documents.textOf(request);
      if (typeof query !== 'string') return query;
      const sent = request.variables ?? {};
      if (typeof sent !== 'object' || Array.isArray(sent))
        return refusal('BAD_REQUEST', '`variables` must be a JSON object');
      try {
        options.checkLimits(query, sent);
      } catch (error) {
        if (error instanceof HttpError) return refusal(error.code, error.message);
        throw error;
      }
      const entry = prepare(query, request.operationName);
      if (!('eventPlan' in entry)) return entry;
      const refused = await checkOperation(entry, session.identity);
      if (refused) return refused;
      const coerced = getVariableValues(apiGraphQLSchema, entry.operation.variableDefinitions ?? [], sent, {
        maxErrors: 10,
      });
      if (coerced.errors) {
        return {
          errors: coerced.errors.map(
            (error) =>
              new GraphQLError(error.message, { nodes: error.nodes ?? null, extensions: { code: 'BAD_USER_INPUT' } }),
          ),
        };
      }
      if (session.credentialExpiresAt !== undefined && session.credentialExpiresAt <= Date.now())
        return refusal('UNAUTHENTICATED', 'Access token expired');
      if (closed) return refusal('SERVICE_UNAVAILABLE', 'The gateway is shutting down');
      return openStream(entry, coerced.coerced, session, signal);
    },
    isSubscription(request) {
      const query = documents.inlineTextOf(request);
      const document = query === undefined ? undefined : documents.parse(query);
      if (!document || document instanceof GraphQLError) return false;
      return resolveOperation(document, request.operationName)?.operation === 'subscription';
    },
    openStreams: () => streams.size,
    upstreamSockets: () => upstreams.sockets(),
    async close() {
      closed = true;
      for (const stream of [...streams]) stream.end();
      // Every stream's end closes its upstream; wait until the sockets are gone.
      for (let waited = 0; upstreams.sockets() > 0 && waited < 5_000; waited += 10)
        await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
}
