import type { ExecutionResult } from 'graphql';
import type { Identity } from '@supergraph/platform';

/**
 * The transport-free heart of the gateway's subscriptions: every client
 * protocol (graphql-ws over WebSocket, graphql-sse, Apollo's multipart HTTP)
 * is a thin adapter over one `SubscriptionCore`, as graphql-ws' `makeServer`
 * is over its transports.
 */

/** A subscription request as every transport receives it (GraphQL-over-HTTP's request parameters). */
export interface SubscriptionRequest {
  query?: string | undefined;
  variables?: Readonly<Record<string, unknown>> | null | undefined;
  operationName?: string | null | undefined;
  /** `persistedQuery` (APQ / trusted documents by `sha256Hash`) is honoured here, for every transport alike. */
  extensions?: Readonly<Record<string, unknown>> | null | undefined;
  /** GraphQL-over-HTTP's `documentId` (`sha256:<hex>`), the trusted-documents form. */
  documentId?: string | undefined;
}

/** Who is subscribing, established by the transport with the gateway's authenticator. */
export interface SubscriptionSession {
  identity: Identity;
  requestId: string;
  traceparent?: string | undefined;
  /**
   * When the credential the stream was opened with stops being valid (an
   * access token's `exp`, in ms since the epoch). The stream then ends with
   * an `UNAUTHENTICATED` error instead of outliving it.
   */
  credentialExpiresAt?: number | undefined;
}

export interface SubscriptionCore {
  /**
   * Resolves the document (persisted documents, safelist), parses, applies the
   * operation limits, validates against the API schema, checks
   * `@authenticated` / `@requiresScopes` before any subgraph is called, plans
   * with the query planner, opens the primary fetch on the owning subgraph
   * and completes every event with the rest of the plan.
   *
   * Client mistakes never throw: they come back as an `ExecutionResult` with
   * `errors` (each with a stable `extensions.code`) and no stream. Otherwise
   * the stream yields one result per event and ends when the subgraph ends it,
   * when `signal` aborts (client went away: the upstream is closed), when the
   * credential expires, or when the core closes.
   */
  subscribe(
    request: SubscriptionRequest,
    session: SubscriptionSession,
    signal: AbortSignal,
  ): Promise<ExecutionResult | AsyncIterableIterator<ExecutionResult>>;
  /** True when `request` names a subscription operation (transports route on it before anything else). */
  isSubscription(request: SubscriptionRequest): boolean;
  /** Open streams right now (tests count leaks with it; metrics expose it). */
  openStreams(): number;
  /** Ends every open stream cleanly (completes it) and closes every upstream socket. */
  close(): Promise<void>;
}
