import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { parse } from 'graphql';
import {
  closeServer,
  createGraphQLHttpServer,
  listen,
  observeSubscriptions,
  REQUEST_ID_PATTERN,
  TRACEPARENT_PATTERN,
  type Identity,
} from '@supergraph/platform';
import { chatPageRoute } from './chat-page.ts';
import { createAccessControl, supergraphForQueryPlanner } from './access-control.ts';
import { adminAllowlistPlugin } from './admin-allowlist.ts';
import { createAccessTokenVerifier, createAuthenticator, createCredentialResolver } from './authenticate.ts';
import { applyBudgetVerdict, createBudgets } from './budgets.ts';
import { clientAddress, createAddressAllowlist } from './client-address.ts';
import { createCors } from './cors.ts';
import { createInternalTokenCache } from './internal-token-cache.ts';
import { createOperationLimits } from './operation-limits.ts';
import { createPersistedDocuments } from './persisted-documents.ts';
import { SubgraphDataSource } from './subgraph-data-source.ts';
import { credentialSubgraphOf, subgraphsOf } from './supergraph-graphs.ts';
import { createSubscriptionCore } from './subscriptions/create-core.ts';
import { createSupergraphGateway } from './executor/gateway.ts';
import { createPlanning } from './executor/planning.ts';
import { serveWebSocketSubscriptions } from './subscriptions/ws.ts';
import { createHttpSubscriptions, credentialExpiryOf } from './subscriptions/http.ts';
import { operationResolutionPlugin } from './operation-resolution.ts';
import { valueCompletionPlugin } from './value-completion.ts';
import { createGatewayObservability } from './observability.ts';
import { maintenancePlugin } from './maintenance.ts';

import { createUsageTracking } from './usage.ts';
import { formatGatewayError } from './format-error.ts';
import type { GatewayContext, GatewayOptions, RunningGateway } from './gateway-options.ts';

export type { GatewayContext, GatewayOptions, RunningGateway } from './gateway-options.ts';
export { formatGatewayError } from './format-error.ts';

/**
 * The gateway: Apollo Server 5 over `@apollo/gateway` with a static
 * supergraph. Authenticates at the edge, enforces `@authenticated` /
 * `@requiresScopes` before planning, signs an internal token per subgraph
 * fetch (reused per identity while fresh), masks errors; serves `/graphql`, `/health`, `/ready`.
 */
export async function startGateway(options: GatewayOptions, port: number, host = '127.0.0.1'): Promise<RunningGateway> {
  const production = options.production ?? false;
  const corsOrigins = options.corsOrigins ?? [];
  if (production && corsOrigins.includes('*')) throw new Error('Wildcard CORS origin is not allowed in production');
  if (production && options.chatPage) throw new Error('The development chat page is not served in production');

  const supergraph = parse(options.supergraphSdl);
  const subgraphs = subgraphsOf(supergraph);
  for (const [name, url] of Object.entries(options.subgraphUrls ?? {})) {
    if (url && subgraphs.has(name)) subgraphs.set(name, url);
  }
  const credentialSubgraph = credentialSubgraphOf(supergraph);
  const credentialSource =
    options.credentials === null
      ? undefined
      : (options.credentials ??
        (credentialSubgraph
          ? { url: subgraphs.get(credentialSubgraph) ?? '', audience: credentialSubgraph }
          : undefined));

  const subgraphTimeoutMs = options.subgraphTimeoutMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
  // Nested, so a client gets the subgraph's error (and partial data) before its own deadline.
  if (subgraphTimeoutMs >= requestTimeoutMs)
    throw new Error(`subgraphTimeoutMs (${subgraphTimeoutMs}) must be below requestTimeoutMs (${requestTimeoutMs})`);
  const accessControl = createAccessControl(supergraph);
  const adminAllowlist = options.adminIpAllowlist?.length
    ? createAddressAllowlist(options.adminIpAllowlist)
    : undefined;
  const budgets = options.budgets ? createBudgets(options.budgets) : undefined;
  const trustedProxyHops = options.trustedProxyHops ?? 0;
  const observability = createGatewayObservability({
    subgraphs,
    redis: options.budgets?.redis,
    ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    metricsAllow: options.metricsAllow,
    // Behind proxies the socket is the proxy's: judge the client the proxies name, as the admin allowlist does.
    clientAddress: (req) => clientAddress(req, trustedProxyHops),
    isDraining: (): boolean => stopping !== undefined,
  });
  const operationLimits = createOperationLimits({
    supergraph,
    ...(options.operationLimits ? { limits: options.operationLimits } : {}),
    production,
    introspection: options.introspection ?? !production,
  });
  const persistedDocuments = await createPersistedDocuments(options.persistedDocuments);
  const jwksSource = options.auth?.jwks
    ? { jwks: options.auth.jwks }
    : options.auth?.jwksUrl
      ? { jwksUrl: options.auth.jwksUrl }
      : credentialSource
        ? { jwksUrl: new URL('/.well-known/jwks.json', credentialSource.url).href }
        : undefined;
  const verifyAccessToken = jwksSource
    ? createAccessTokenVerifier({
        issuer: options.auth?.issuer ?? 'supergraph-auth',
        audience: options.auth?.audience ?? 'supergraph',
        revocations: options.revocations,
        ...(options.accessTokenMaxAgeSeconds !== undefined ? { maxAgeSeconds: options.accessTokenMaxAgeSeconds } : {}),
        ...jwksSource,
      })
    : undefined;
  const credentials = credentialSource
    ? createCredentialResolver({
        url: credentialSource.url,
        audience: credentialSource.audience,
        internalTokenKey: options.internalTokenKey,
        revocations: options.revocations,
        ...(options.credentialCacheTtlMs !== undefined ? { ttlMs: options.credentialCacheTtlMs } : {}),
        ...(options.negativeCredentialCacheTtlMs !== undefined
          ? { negativeTtlMs: options.negativeCredentialCacheTtlMs }
          : {}),
        timeoutMs: Math.min(subgraphTimeoutMs, 5_000),
      })
    : undefined;
  const authenticator = createAuthenticator(verifyAccessToken, credentials);

  const internalTokens = createInternalTokenCache({ key: options.internalTokenKey });
  const usage = options.usage ? createUsageTracking(options.usage, supergraph) : undefined;
  const planningSdl = supergraphForQueryPlanner(supergraph);
  const planning = createPlanning(planningSdl);
  const dataSources = [...subgraphs].map(
    ([name, url]) =>
      new SubgraphDataSource({
        name,
        url,
        internalTokenKey: options.internalTokenKey,
        internalTokens,
        timeoutMs: subgraphTimeoutMs,
        dedup: options.subgraphDedup ?? true,
      }),
  );
  const serviceMap = () => Object.fromEntries(dataSources.map((dataSource) => [dataSource.subgraphName, dataSource]));
  // `@apollo/gateway` itself (loaded only then) when asked for, for side-by-side measurement; ours otherwise.
  const gateway =
    options.executor === 'apollo'
      ? new (await import('@apollo/gateway')).ApolloGateway({
          supergraphSdl: planningSdl,
          ...(usage ? { experimental_didResolveQueryPlan: usage.didResolveQueryPlan } : {}),
          buildService: ({ name }) => serviceMap()[name]!,
        })
      : createSupergraphGateway({
          supergraphSdl: planningSdl,
          planning,
          serviceMap,
          ...(usage ? { didResolveQueryPlan: usage.didResolveQueryPlan } : {}),
          exposeQueryPlan: !production,
        });

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    // Our entry points own SIGTERM/SIGINT (drain HTTP first, then Apollo); Apollo's own handlers would race them.
    stopOnTerminationSignals: false,
    csrfPrevention: true,
    introspection: options.introspection ?? !production,
    includeStacktraceInErrorResponses: false,
    formatError: formatGatewayError,
    persistedQueries: persistedDocuments.apolloOption,
    hideSchemaDetailsFromClientErrors: !(options.fieldSuggestions ?? !production),
    parseOptions: operationLimits.parseOptions,
    allowBatchedHttpRequests: operationLimits.allowBatchedHttpRequests,
    plugins: [
      observability.plugin<GatewayContext>(),
      ...(usage ? [usage.plugin] : []),
      operationLimits.plugin,
      persistedDocuments.plugin,
      production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      accessControl.plugin,
      ...(adminAllowlist ? [adminAllowlistPlugin(accessControl.schema, adminAllowlist)] : []),
      ...(options.settings
        ? [maintenancePlugin<GatewayContext>(options.settings, options.maintenanceExemptFields)]
        : []),
      valueCompletionPlugin(),
      operationResolutionPlugin(),
    ],
  });
  await apollo.start();
  // Subscription events reuse the HTTP path's data sources for their entity fetches.
  const coreSubscriptions = createSubscriptionCore({
    supergraph,
    planning,
    checkAccess: accessControl.check,
    plugins: adminAllowlist ? [adminAllowlistPlugin(accessControl.schema, adminAllowlist)] : [],
    checkLimits: operationLimits.checkQuery,
    maxTokens: operationLimits.limits.maxTokens,
    persistedDocuments,
    subgraphUrls: subgraphs,
    dataSources: new Map(dataSources.map((dataSource) => [dataSource.subgraphName, dataSource])),
    internalTokens,
    formatError: formatGatewayError,
    fieldSuggestions: options.fieldSuggestions ?? !production,
    enabled: options.subscriptions ?? true,
    revocations: options.revocations,
  });
  // Every transport opens through this: a usage record per subscription, at open.
  const subscriptions = usage ? usage.observeSubscriptions(coreSubscriptions) : coreSubscriptions;

  const cors = createCors(corsOrigins);
  const requestIds = new WeakMap<IncomingMessage, string>();
  const responses = new WeakMap<IncomingMessage, ServerResponse>();
  const unobserveSubscriptions = observeSubscriptions('gateway', () => subscriptions.openStreams());

  async function context(req: IncomingMessage, body: unknown): Promise<GatewayContext> {
    persistedDocuments.checkHttpRequest(req, body);
    operationLimits.checkHttpRequest(req, body);
    const requestId = requestIds.get(req) ?? randomUUID();
    const identity = {
      ...(await authenticator.authenticate(req, requestId)),
      clientIp: clientAddress(req, trustedProxyHops),
    };
    // After authentication (the budget is the user's, sized by tier), before any GraphQL work.
    applyBudgetVerdict(responses.get(req), await budgets?.check(identity));
    const traceparent = header(req, 'traceparent');
    return observability.track(req, {
      identity,
      requestId,
      ...(traceparent && TRACEPARENT_PATTERN.test(traceparent) ? { traceparent } : {}),
    });
  }

  const server = createGraphQLHttpServer<GatewayContext>({
    apollo,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    requestTimeoutMs,
    requestErrorsOkForJson: true,
    preflight: (req, res) => {
      const sent = header(req, 'x-request-id');
      const requestId = sent && REQUEST_ID_PATTERN.test(sent) ? sent : randomUUID();
      requestIds.set(req, requestId);
      responses.set(req, res);
      observability.begin(req, res, requestId);
      res.setHeader('x-request-id', requestId);
      return cors(req, res);
    },
    metrics: observability.metrics,
    routes: {
      ...observability.routes,
      ...(options.chatPage ? { '/chat': chatPageRoute() } : {}),
    },
    context,
    // Subscriptions asking for SSE or multipart, with the same edge (context) as every request.
    stream: createHttpSubscriptions({
      core: subscriptions,
      session: async (req, _res, body) => ({ ...(await context(req, body)), ...credentialExpiryOf(req) }),
      ...(options.subscriptionHeartbeatMs?.sse !== undefined
        ? { sseKeepAliveMs: options.subscriptionHeartbeatMs.sse }
        : {}),
      ...(options.subscriptionHeartbeatMs?.multipart !== undefined
        ? { multipartHeartbeatMs: options.subscriptionHeartbeatMs.multipart }
        : {}),
    }),
  });

  // graphql-ws on the same port and path: the credential comes in connection_init, the same authenticator checks it.
  const webSockets = serveWebSocketSubscriptions({
    server,
    core: subscriptions,
    authenticator,
    corsOrigins,
    trustedProxyHops,
    ...(budgets ? { checkBudget: (identity: Identity) => budgets.check(identity) } : {}),
  });

  const base = await listen(server, port, host);
  let stopping: Promise<void> | undefined;
  return {
    url: `${base}/graphql`,
    http: server,
    subgraphs,
    subscriptions,
    stop: () =>
      (stopping ??= (async () => {
        if (options.drainDelayMs) await new Promise((resolve) => setTimeout(resolve, options.drainDelayMs));
        // Streams first: an open stream would hold the HTTP drain until its grace ran out.
        await subscriptions.close();
        await webSockets.close();
        await closeServer(server);
        await apollo.stop();
        persistedDocuments.stop();
        await Promise.all(dataSources.map((dataSource) => dataSource.close()));
        unobserveSubscriptions();
      })()),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
