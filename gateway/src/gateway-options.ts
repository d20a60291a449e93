import type http from 'node:http';
import type { JSONWebKeySet, CryptoKey, KeyObject } from 'jose';
import type { Identity, RevocationList, SettingsSource, UsageRecorder } from '@supergraph/platform';
import type { BudgetOptions } from './budgets.ts';
import type { OperationLimits } from './operation-limits.ts';
import type { PersistedDocumentsOptions } from './persisted-documents.ts';
import type { SubgraphFetchContext } from './subgraph-data-source.ts';
import type { GatewaySubscriptionCore } from './subscriptions/create-core.ts';

// What `startGateway` takes and gives back, apart from the server that builds it.

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
  /**
   * What runs query plans: `supergraph` (default), ours, compiled per
   * operation (`executor/`); `apollo`, `@apollo/gateway`'s own, kept for
   * side-by-side measurement and as a fallback while the two are compared.
   */
  executor?: 'supergraph' | 'apollo';
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
