import type { ApolloServerPlugin } from '@apollo/server';
import type { PlanNode, QueryPlan, SubscriptionNode } from '@apollo/query-planner';
import {
  type GraphQLError,
  Kind,
  parse,
  type ConstDirectiveNode,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
} from 'graphql';
import type { Identity, UsageRecord, UsageRecorder } from '@supergraph/platform';
import type { SubscriptionRequest, SubscriptionSession } from './subscriptions/core.ts';
import type { GatewaySubscriptionCore } from './subscriptions/create-core.ts';

type Recordable = Omit<UsageRecord, 'id'>;

/**
 * The gateway's side of the usage pipeline: one record per HTTP operation
 * (user, operation name and type, ok/error with the error codes, latency,
 * the subgraphs its query plan fetched from) and one per subscription, when
 * it opens. Recording is a push onto the recorder's in-memory buffer; the
 * XADDs happen in its batches, never on the request path.
 *
 * @example
 * const usage = createUsageTracking(createUsageRecorder(redis, { prefix }));
 * new ApolloGateway({ ..., experimental_didResolveQueryPlan: usage.didResolveQueryPlan });
 * new ApolloServer({ ..., plugins: [usage.plugin] });
 */
export function createUsageTracking(
  recorder: UsageRecorder,
  supergraph: DocumentNode,
): {
  plugin: ApolloServerPlugin<{ identity: Identity }>;
  /** For `ApolloGateway`'s `experimental_didResolveQueryPlan`: remembers which subgraphs the request's plan calls. */
  didResolveQueryPlan(options: { queryPlan: QueryPlan; requestContext: { context: object } }): void;
  /** The subscription core with each subscribe recorded once, when it opens (or is refused). */
  observeSubscriptions(core: GatewaySubscriptionCore): GatewaySubscriptionCore;
} {
  const planned = new WeakMap<object, readonly string[]>();
  const subscriptionOwners = subscriptionFieldOwners(supergraph);
  return {
    plugin: {
      async requestDidStart({ contextValue }) {
        const at = new Date().toISOString();
        const started = performance.now();
        let operationName: string | null = null;
        let operationType: UsageRecord['operationType'] = 'unknown';
        return {
          async didResolveOperation({ operation, operationName: name }) {
            operationName = name ?? null;
            if (operation) operationType = operation.operation;
          },
          async willSendResponse({ response }) {
            const body = response.body;
            const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
            recorder.record({
              at,
              userId: contextValue.identity.userId,
              operationName,
              operationType,
              status: errors && errors.length > 0 ? 'error' : 'ok',
              errorCodes: codesOf(errors),
              latencyMs: roundMs(performance.now() - started),
              subgraphs: [...(planned.get(contextValue) ?? [])],
            });
          },
        };
      },
    },
    didResolveQueryPlan({ queryPlan, requestContext }) {
      planned.set(requestContext.context, subgraphsOfPlan(queryPlan));
    },
    observeSubscriptions(core) {
      return {
        ...core,
        async subscribe(request: SubscriptionRequest, session: SubscriptionSession, signal: AbortSignal) {
          const at = new Date().toISOString();
          const started = performance.now();
          const result = await core.subscribe(request, session, signal);
          const refused = isExecutionResult(result) ? result : undefined;
          const record: Recordable = {
            at,
            userId: session.identity.userId,
            operationName: request.operationName ?? null,
            operationType: 'subscription',
            status: refused ? 'error' : 'ok',
            errorCodes: codesOf(refused?.errors),
            latencyMs: roundMs(performance.now() - started),
            subgraphs: refused ? [] : subscriptionSubgraphs(request, subscriptionOwners),
          };
          recorder.record(record);
          return result;
        },
      };
    },
  };
}

function isExecutionResult(value: ExecutionResult | AsyncIterableIterator<ExecutionResult>): value is ExecutionResult {
  return !(Symbol.asyncIterator in value);
}

function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function codesOf(errors: ReadonlyArray<GraphQLFormattedError | GraphQLError> | undefined): string[] {
  if (!errors || errors.length === 0) return [];
  const codes = new Set<string>();
  for (const error of errors) {
    const code = error.extensions?.['code'];
    codes.add(typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');
  }
  return [...codes];
}

/** Plans are cached by the gateway and reused: so is what they fetch from. */
const planSubgraphs = new WeakMap<QueryPlan, readonly string[]>();

/** The sorted, unique service names of every fetch in the plan. */
export function subgraphsOfPlan(plan: QueryPlan): readonly string[] {
  let names = planSubgraphs.get(plan);
  if (!names) {
    const found = new Set<string>();
    if (plan.node) collectFetches(plan.node, found);
    names = Object.freeze([...found].sort());
    planSubgraphs.set(plan, names);
  }
  return names;
}

function collectFetches(node: PlanNode | SubscriptionNode, found: Set<string>): void {
  switch (node.kind) {
    case 'Fetch':
      found.add(node.serviceName);
      return;
    case 'Sequence':
    case 'Parallel':
      for (const child of node.nodes) collectFetches(child, found);
      return;
    case 'Flatten':
      collectFetches(node.node, found);
      return;
    case 'Subscription':
      collectFetches(node.primary, found);
      if (node.rest) collectFetches(node.rest, found);
      return;
    case 'Defer':
      if (node.primary.node) collectFetches(node.primary.node, found);
      for (const deferred of node.deferred) if (deferred.node) collectFetches(deferred.node, found);
      return;
    case 'Condition':
      if (node.ifClause) collectFetches(node.ifClause, found);
      if (node.elseClause) collectFetches(node.elseClause, found);
      return;
  }
}

/** `Subscription` field → the subgraph that serves it, from the supergraph's join directives. */
function subscriptionFieldOwners(supergraph: DocumentNode): Map<string, string> {
  const graphNames = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const definition of supergraph.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const name = value.directives
        ?.find((directive) => directive.name.value === 'join__graph')
        ?.arguments?.find((arg) => arg.name.value === 'name')?.value;
      if (name?.kind === Kind.STRING) graphNames.set(value.name.value, name.value);
    }
  }
  for (const definition of supergraph.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION || definition.name.value !== 'Subscription') continue;
    const typeGraphs = graphsOf(definition.directives, 'join__type');
    for (const field of definition.fields ?? []) {
      const graph =
        graphsOf(field.directives, 'join__field')[0] ?? (typeGraphs.length === 1 ? typeGraphs[0] : undefined);
      const name = graph ? graphNames.get(graph) : undefined;
      if (name) owners.set(field.name.value, name);
    }
  }
  return owners;
}

function graphsOf(directives: readonly ConstDirectiveNode[] | undefined, name: string): string[] {
  return (directives ?? [])
    .filter((directive) => directive.name.value === name)
    .flatMap((directive) => {
      const graph = directive.arguments?.find((arg) => arg.name.value === 'graph')?.value;
      return graph?.kind === Kind.ENUM ? [graph.value] : [];
    });
}

/**
 * The subgraph serving an opened subscription's root fields (from its text;
 * a persisted document sent by hash alone records none). Entity fields other
 * subgraphs add to each event are not counted: they are per event, not per open.
 */
function subscriptionSubgraphs(request: SubscriptionRequest, owners: ReadonlyMap<string, string>): string[] {
  if (typeof request.query !== 'string') return [];
  try {
    const document = parse(request.query, { noLocation: true });
    const found = new Set<string>();
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'subscription') continue;
      if (request.operationName && definition.name?.value !== request.operationName) continue;
      for (const selection of definition.selectionSet.selections) {
        const owner = selection.kind === Kind.FIELD ? owners.get(selection.name.value) : undefined;
        if (owner) found.add(owner);
      }
    }
    return [...found].sort();
  } catch {
    return [];
  }
}
