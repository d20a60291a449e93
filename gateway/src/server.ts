import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { parse, type GraphQLFormattedError } from 'graphql';
import type { CryptoKey, JSONWebKeySet, KeyObject } from 'jose';
import {
  createLogger,
  closeServer,
  createGraphQLHttpServer,
  listen,
  maskError,
  observeSubscriptions,
  type Identity,
  type RevocationList,
  type SettingsSource,
  type UsageRecorder,
} from '@supergraph/platform';
import { chatPageRoute } from './chat-page.ts';
import { createAccessControl, supergraphForQueryPlanner } from './access-control.ts';
import { adminAllowlistPlugin } from './admin-allowlist.ts';
import { createAccessTokenVerifier, createAuthenticator, createCredentialResolver } from './authenticate.ts';
import { applyBudgetVerdict, createBudgets, type BudgetOptions } from './budgets.ts';
import { clientAddress, createAddressAllowlist } from './client-address.ts';
import { createCors } from './cors.ts';
import { createInternalTokenCache } from './internal-token-cache.ts';
import { createOperationLimits, type OperationLimits } from './operation-limits.ts';
import { createPersistedDocuments, type PersistedDocumentsOptions } from './persisted-documents.ts';
import { SubgraphDataSource, type SubgraphFetchContext } from './subgraph-data-source.ts';
import { credentialSubgraphOf, subgraphsOf } from './supergraph-graphs.ts';
import { createSubscriptionCore, type GatewaySubscriptionCore } from './subscriptions/create-core.ts';
import { serveWebSocketSubscriptions } from './subscriptions/ws.ts';
import { createHttpSubscriptions, credentialExpiryOf } from './subscriptions/http.ts';
import { operationResolutionPlugin } from './operation-resolution.ts';
import { valueCompletionPlugin } from './value-completion.ts';
import { createGatewayObservability } from './observability.ts';
import { maintenancePlugin } from './maintenance.ts';

const log = createLogger('gateway');
import { createUsageTracking } from './usage.ts';

export interface GatewayOptions {
  /** The composed supergraph SDL (`schema/supergraph.graphql`). */
  supergraphSdl: string;
  /** The gateway's Ed25519 private key: signs internal tokens for subgraphs. */
  internalTokenKey: CryptoKey | KeyObject;
  /**
   * Access-token (`Authorization: Bearer`) verification. The key set is `jwks`,
   * else `jwksUrl`, else `/.well-known/jwks.json` beside the credential
   * subgraph; with none of them Bearer tokens are refused and the graph still
   * serves anonymous traffic.
   */
  auth?: { issuer: string; audience: string; jwksUrl?: string | undefined; jwks?: JSONWebKeySet };
  /**
   * Where API keys and session tokens are resolved: a GraphQL endpoint
   * answering `resolveCredential`, called with an internal token for
   * `audience`. Default: the subgraph that owns `Query.resolveCredential` in the
   * supergraph, if any. `null`: none (those headers are refused).
   */
  credentials?: { url: string; audience: string } | null;
  /** Per-subgraph URL overrides (by subgraph name, e.g. `storage-units`); the supergraph's routing URLs otherwise. */
  subgraphUrls?: Readonly<Record<string, string | undefined>>;
  /** Production: no landing page, no wildcard CORS. */
  production?: boolean;
  /** Allowed browser origins; `*` only outside production. Default none. */
  corsOrigins?: readonly string[];
  /** Default: on outside production, off in production. */
  introspection?: boolean;
  /** "Did you mean …?" in validation errors (they name schema fields). Default: on outside production, off in production. */
  fieldSuggestions?: boolean;
  /** Depth, alias, root-field, directive, token, cost and batch limits, checked before Apollo parses. Defaults: `DEFAULT_OPERATION_LIMITS`. */
  operationLimits?: Partial<OperationLimits>;
  /** Trusted documents (a manifest) and APQ; see docs/persisted-queries.md. Default: mode `allow`, no manifest, APQ in process. */
  persistedDocuments?: PersistedDocumentsOptions;
  /** API key / session cache lifetime (revocation delay when no revocations reach the gateway). Default 5 s. */
  credentialCacheTtlMs?: number;
  /**
   * Revocations auth publishes (`subscribeToRevocations` over Redis, or the
   * in-process list of the embedded launcher): access tokens issued before a
   * revocation of their user or session are refused, and cached API-key and
   * session identities are looked up again. The caller closes it. Without
   * it, access tokens live until they expire.
   */
  revocations?: RevocationList | undefined;
  /** Access tokens claiming a longer lifetime (`exp - iat`) are refused. Default 3,600 s. */
  accessTokenMaxAgeSeconds?: number;
  /** Cache lifetime of unknown/revoked credentials. Default 1 s. */
  negativeCredentialCacheTtlMs?: number;
  /** Each subgraph fetch gives up after this long. Default 10 s; must be below `requestTimeoutMs`. */
  subgraphTimeoutMs?: number;
  /**
   * Identical subgraph query fetches in flight at once (same subgraph, same
   * identity, same body) share one HTTP exchange; never mutations. Default true.
   */
  subgraphDedup?: boolean;
  /** A whole request gives up after this long with 504 `GATEWAY_TIMEOUT`. Default 15 s. */
  requestTimeoutMs?: number;
  /** `/ready` gives each subgraph's `/ready` this long. Default 1 s. */
  readyTimeoutMs?: number;
  /** CIDR ranges that may read `/metrics` (`METRICS_ALLOW`); others get 403. Default: everyone. */
  metricsAllow?: readonly string[];
  /** After `stop()` begins, `/ready` answers 503 `draining` this long before streams and the listener close. Default 0. */
  drainDelayMs?: number;
  /** Bigger request bodies get 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * How many proxies in front of the gateway append to `X-Forwarded-For`: the
   * client is that many entries from the right (see `clientAddress`). Default
   * 0: the connecting address, the header ignored.
   */
  trustedProxyHops?: number;
  /**
   * CIDR ranges (IPv4, IPv6) allowed to run operations that touch admin-scoped
   * fields; from anywhere else they answer 403 FORBIDDEN before planning.
   * Default: no allowlist.
   */
  adminIpAllowlist?: readonly string[];
  /**
   * Request budgets per client and tier (per minute and per day, shared by
   * every gateway counting in the same Redis); over budget answers 429. Default:
   * none (service mode turns them on).
   */
  budgets?: BudgetOptions;
  /** Subscriptions (graphql-ws on `/graphql`, SSE, multipart). Default true; false answers SUBSCRIPTIONS_NOT_SUPPORTED. */
  subscriptions?: boolean;
  /** Idle heartbeats of streamed subscriptions: SSE comments (default 12 s), multipart `{}` parts (default 5 s). */
  subscriptionHeartbeatMs?: { sse?: number; multipart?: number };
  /** Serve the development chat page at `/chat` (`npm start` turns it on). Refused in production. Default false. */
  chatPage?: boolean;
  /**
   * The live settings of this process (`subscribeToSettings`; the caller
   * closes it): while `maintenance.enabled`, mutations answer 503
   * `MAINTENANCE` except those whose root fields are all in
   * `maintenanceExemptFields` (default `updateSetting`). Default: none, never in maintenance.
   */
  settings?: SettingsSource;
  maintenanceExemptFields?: readonly string[];
  /** Where each operation's usage record goes (`createUsageRecorder`; the caller closes it). Default: not recorded. */
  usage?: UsageRecorder;
}

export interface RunningGateway {
  /** The GraphQL endpoint, `http://host:port/graphql`. */
  url: string;
  http: http.Server;
  /** Subgraph name → the URL the gateway calls. */
  subgraphs: ReadonlyMap<string, string>;
  /** The subscription core every subscription transport adapts (tests count open streams and upstream sockets). */
  subscriptions: GatewaySubscriptionCore;
  stop(): Promise<void>;
}

export interface GatewayContext extends SubgraphFetchContext {
  identity: Identity;
  requestId: string;
}

/** Extensions that describe internals (where a subgraph lives, what it answered) and never reach clients. */
const PRIVATE_EXTENSIONS = ['response', 'serviceName', 'exception', 'stacktrace', 'http', 'valueCompletion'];

export function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.['code'];
  const service = formatted.extensions?.['serviceName'];
  if (typeof service === 'string' && (code === 'INTERNAL_SERVER_ERROR' || code === 'DOWNSTREAM_SERVICE_ERROR')) {
    // The subgraph logged (and masked) the original; one line here is enough to correlate.
    log.error({ subgraph: service, path: formatted.path ?? [] }, `${service} answered an internal error`);
    const masked: GraphQLFormattedError = {
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
    return formatted.path ? { ...masked, path: formatted.path } : masked;
  }
  if (!formatted.path && isCodelessClientError(error)) {
    // Apollo's own refusals of a malformed request (e.g. an unsupported persisted-query version) carry no code of their own.
    return { message: formatted.message, extensions: { code: 'BAD_REQUEST' } };
  }
  const masked = maskError(formatted, error, 'gateway');
  if (!masked.extensions) return masked;
  const extensions = { ...masked.extensions };
  for (const key of PRIVATE_EXTENSIONS) delete extensions[key];
  return { ...masked, extensions };
}

/** True for an error without a code that the request pipeline raised with a 4xx HTTP status (`extensions.http.status`). */
function isCodelessClientError(error: unknown): boolean {
  const extensions = (error as { extensions?: { code?: unknown; http?: { status?: unknown } } } | null)?.extensions;
  const status = extensions?.http?.status;
  return extensions?.code === undefined && typeof status === 'number' && status >= 400 && status < 500;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

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
  const dataSources: SubgraphDataSource[] = [];
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphForQueryPlanner(supergraph),
    ...(usage ? { experimental_didResolveQueryPlan: usage.didResolveQueryPlan } : {}),
    buildService: ({ name, url }) => {
      const dataSource = new SubgraphDataSource({
        name,
        url: subgraphs.get(name) ?? url ?? '',
        internalTokenKey: options.internalTokenKey,
        internalTokens,
        timeoutMs: subgraphTimeoutMs,
        dedup: options.subgraphDedup ?? true,
      });
      dataSources.push(dataSource);
      return dataSource;
    },
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
  // After start: Apollo has built every data source, which subscription events reuse for their entity fetches.
  const coreSubscriptions = createSubscriptionCore({
    supergraph,
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
      ...(traceparent && TRACEPARENT.test(traceparent) ? { traceparent } : {}),
    });
  }

  const server = createGraphQLHttpServer<GatewayContext>({
    apollo,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    requestTimeoutMs,
    requestErrorsOkForJson: true,
    preflight: (req, res) => {
      const sent = header(req, 'x-request-id');
      const requestId = sent && REQUEST_ID.test(sent) ? sent : randomUUID();
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
