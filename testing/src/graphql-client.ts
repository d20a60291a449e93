import { INTERNAL_TOKEN_HEADER, signInternalToken, type Identity } from '@supergraph/platform';
import type { CryptoKey, KeyObject } from 'jose';

export interface GraphQLErrorShape {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; field?: string; [key: string]: unknown };
}

/** A GraphQL answer as a subgraph sends it, with the HTTP status. */
export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: GraphQLErrorShape[];
}

export interface CallOptions {
  /** Another instance of the same subgraph (default: the client's URL). */
  url?: string;
  /** A token to send as is (forged, expired, other audience) instead of signing one for the identity. */
  token?: string;
  /** Sign for another audience than the client's. */
  audience?: string;
}

export interface SubgraphClient {
  /** The internal token the gateway would send for `identity`. */
  token(identity: Identity, audience?: string): Promise<string>;
  /** POST /graphql as the gateway would; `identity: null` sends no internal token. */
  call<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    identity?: Identity | null,
    options?: CallOptions,
  ): Promise<GraphQLResponse<T>>;
}

/**
 * Calls one subgraph over HTTP the way the gateway does: each request carries
 * an internal token for `identity`, signed with the test's gateway key for the
 * subgraph's audience (its name).
 *
 * @example
 * const client = subgraphClient({ url: running.url, audience: 'knowledge', signingKey });
 * const { data, errors } = await client.call('{ knowledgeStats { entries } }', {}, userIdentity());
 */
export function subgraphClient(options: {
  url: string | (() => string);
  audience: string;
  signingKey: CryptoKey | KeyObject;
}): SubgraphClient {
  const defaultUrl = () => (typeof options.url === 'function' ? options.url() : options.url);
  const token = (identity: Identity, audience = options.audience) =>
    signInternalToken(identity, audience, options.signingKey);
  return {
    token,
    async call<T>(
      query: string,
      variables: Record<string, unknown> = {},
      identity: Identity | null = null,
      { url = defaultUrl(), token: given, audience }: CallOptions = {},
    ): Promise<GraphQLResponse<T>> {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const internal = given ?? (identity ? await token(identity, audience) : undefined);
      if (internal) headers[INTERNAL_TOKEN_HEADER] = internal;
      const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const text = await response.text();
      let body: Omit<GraphQLResponse<T>, 'status'>;
      try {
        body = JSON.parse(text) as Omit<GraphQLResponse<T>, 'status'>;
      } catch {
        throw new Error(`non-JSON answer ${response.status} from ${url}: ${text.slice(0, 200)}`);
      }
      return { status: response.status, ...body };
    },
  };
}
