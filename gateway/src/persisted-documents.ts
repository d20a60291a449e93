import type { IncomingMessage } from 'node:http';
import type { ApolloServerPlugin, BaseContext, PersistedQueryOptions } from '@apollo/server';
import { LRUCache } from 'lru-cache';
import { createLogger, HttpError, withDeadline, type Identity, type Redis } from '@supergraph/platform';
import { EMPTY_MANIFEST, loadManifestSource, type Manifest, type ManifestOperation } from './persisted-manifest.ts';

const log = createLogger('gateway');

/**
 * `off`: no manifest, no APQ. `allow`: manifest ids, APQ and arbitrary
 * operations. `safelist`: only the manifest's operations (by id, or by their
 * exact text); APQ registration refused.
 */
export type PersistedDocumentsMode = 'off' | 'allow' | 'safelist';
export const PERSISTED_DOCUMENTS_MODES = ['off', 'allow', 'safelist'] as const;

/** The persisted-document parts of one GraphQL request, whatever carried it (HTTP body, GET URL, graphql-ws `subscribe` payload). */
export interface PersistedRequest {
  query?: unknown;
  extensions?: unknown;
  documentId?: unknown;
}

export type Resolution =
  /** Run this manifest operation's body. */
  | { kind: 'manifest'; operation: ManifestOperation }
  /** Allow mode, an unknown `documentId`: look its hash up in the APQ store. */
  | { kind: 'apq'; sha256Hash: string }
  /** Not a persisted-document request, or allow/off mode: the server handles it as it is. */
  | { kind: 'pass' }
  | { kind: 'refused'; code: string; message: string };

const SHA256_HEX = /^[\da-f]{64}$/i;

/**
 * The one lookup every transport uses: which document a request runs, or why
 * it is refused. Ids come as `extensions.persistedQuery.sha256Hash` (Apollo
 * clients) or `documentId` (GraphQL-over-HTTP appendix, `sha256:<hex>`).
 */
export function resolvePersistedRequest(
  request: PersistedRequest,
  manifest: Manifest,
  mode: PersistedDocumentsMode,
): Resolution {
  if (mode === 'off') return { kind: 'pass' };
  const { documentId, query } = request;
  if (documentId !== undefined) {
    if (typeof documentId !== 'string' || documentId === '')
      return { kind: 'refused', code: 'BAD_REQUEST', message: '`documentId` must be a non-empty string' };
    if (query !== undefined)
      return { kind: 'refused', code: 'BAD_REQUEST', message: 'Send either `documentId` or `query`, not both' };
    const id = documentId.startsWith('sha256:') ? documentId.slice('sha256:'.length) : documentId;
    const operation = manifest.byId(id);
    if (operation) return { kind: 'manifest', operation };
    if (mode === 'allow' && SHA256_HEX.test(id)) return { kind: 'apq', sha256Hash: id.toLowerCase() };
    return notInList(mode);
  }
  const persistedQuery = isRecord(request.extensions) ? request.extensions['persistedQuery'] : undefined;
  const hash = isRecord(persistedQuery) ? persistedQuery['sha256Hash'] : undefined;
  if (typeof hash === 'string') {
    const operation = manifest.byId(hash);
    if (operation) return { kind: 'manifest', operation };
    return mode === 'safelist' ? notInList(mode) : { kind: 'pass' };
  }
  if (typeof query === 'string' && mode === 'safelist') {
    const operation = manifest.byBody(query);
    return operation ? { kind: 'manifest', operation } : notInList(mode);
  }
  return { kind: 'pass' };
}

function notInList(mode: PersistedDocumentsMode): Resolution {
  return mode === 'safelist'
    ? {
        kind: 'refused',
        code: 'PERSISTED_QUERY_NOT_IN_LIST',
        message: 'This operation is not in the persisted-document list',
      }
    : { kind: 'refused', code: 'PERSISTED_QUERY_NOT_FOUND', message: 'No persisted document has this id' };
}

/** The persisted-document fields of an HTTP request: a POST body (one operation or a batch) or the GET URL's parameters. */
export function persistedRequestsOfHttp(body: unknown, search: string): PersistedRequest[] {
  if (Array.isArray(body)) return body.filter(isRecord);
  if (isRecord(body)) return [body];
  if (body !== undefined) return [];
  const params = new URLSearchParams(search);
  const extensions = params.get('extensions');
  let parsedExtensions: unknown;
  try {
    parsedExtensions = extensions === null ? undefined : JSON.parse(extensions);
  } catch {
    parsedExtensions = undefined;
  }
  return [
    {
      ...(params.has('query') ? { query: params.get('query') } : {}),
      ...(params.has('documentId') ? { documentId: params.get('documentId') } : {}),
      ...(parsedExtensions !== undefined ? { extensions: parsedExtensions } : {}),
    },
  ];
}

export interface PersistedDocumentsOptions {
  /** Default `allow`. */
  mode?: PersistedDocumentsMode;
  /** A file path or http(s) URL of the manifest; required for `safelist`. */
  manifest?: string;
  reloadIntervalMs?: number;
  /** Where APQ keeps registered queries (Redis: {@link createRedisKeyValueCache}); Apollo's in-process LRU otherwise. */
  apqCache?: PersistedQueryOptions['cache'];
  /** How long a registered APQ query lives. Default 1 day. */
  apqTtlSeconds?: number;
  /** `Cache-Control: public, max-age=N` on anonymous, error-free GET queries; 0 sends `no-store`. Default 0. */
  getMaxAgeSeconds?: number;
  log?: (message: string) => void;
}

export interface PersistedDocuments {
  /** Apollo Server's `persistedQueries` option for this mode. */
  apolloOption: PersistedQueryOptions | false;
  plugin: ApolloServerPlugin<BaseContext & { identity: Identity }>;
  /** Refuses (HttpError) an HTTP request the mode does not allow, before any GraphQL work. */
  checkHttpRequest(req: IncomingMessage, body: unknown): void;
  /** Which document a request of any transport runs (the current manifest, this mode): subscriptions resolve here. */
  resolve(request: PersistedRequest): Resolution;
  /**
   * The APQ store Apollo reads and writes (keys `apq:<sha256>`), for transports
   * that run outside Apollo's pipeline, so a hash registered over HTTP runs
   * over a WebSocket too. Undefined unless the mode is `allow`.
   */
  apq: ApqStore | undefined;
  stop(): void;
}

/** Registered APQ documents by their SHA-256 (lowercase hex). */
export interface ApqStore {
  get(sha256Hash: string): Promise<string | undefined>;
  set(sha256Hash: string, query: string): Promise<void>;
}

/** Apollo Server's own prefix for APQ entries in `persistedQueries.cache`. */
const APQ_KEY_PREFIX = 'apq:';

/** Apollo's default APQ store is private to it; this one, of the same size (~30 MiB of text), is shared. */
function createInProcessKeyValueCache(): NonNullable<PersistedQueryOptions['cache']> {
  const cache = new LRUCache<string, string>({
    maxSize: 30 * 1024 * 1024,
    sizeCalculation: (value) => value.length || 1,
  });
  return {
    get: async (key) => cache.get(key),
    set: async (key, value, options) => {
      cache.set(key, value, options?.ttl ? { ttl: options.ttl * 1000 } : {});
    },
    delete: async (key) => cache.delete(key),
  };
}

/** Headers whose values change the answer: a cached anonymous GET must not serve a credentialed one. */
const VARY = 'Origin, Authorization, X-Api-Key, X-Session-Token';

/**
 * Persisted queries (APQ) and trusted documents for the gateway: the manifest
 * source, Apollo's `persistedQueries` option, an HTTP check that refuses
 * before any GraphQL work, and a plugin that swaps an id for its body (and
 * sets `Cache-Control` on GET answers).
 */
export async function createPersistedDocuments(options: PersistedDocumentsOptions = {}): Promise<PersistedDocuments> {
  const mode = options.mode ?? 'allow';
  if (mode === 'safelist' && !options.manifest) throw new Error('Persisted-document mode safelist needs a manifest');
  const source =
    mode !== 'off' && options.manifest
      ? await loadManifestSource(options.manifest, {
          ...(options.reloadIntervalMs !== undefined ? { reloadIntervalMs: options.reloadIntervalMs } : {}),
          ...(options.log ? { log: options.log } : {}),
        })
      : undefined;
  const current = () => source?.current() ?? EMPTY_MANIFEST;
  const getMaxAgeSeconds = options.getMaxAgeSeconds ?? 0;
  const apqTtlSeconds = options.apqTtlSeconds ?? 86_400;
  const apqCache = mode === 'allow' ? (options.apqCache ?? createInProcessKeyValueCache()) : undefined;

  return {
    apolloOption: apqCache ? { cache: apqCache, ttl: apqTtlSeconds } : false,
    resolve: (request) => resolvePersistedRequest(request, current(), mode),
    apq: apqCache
      ? {
          get: (sha256Hash) => apqCache.get(APQ_KEY_PREFIX + sha256Hash),
          set: (sha256Hash, query) => apqCache.set(APQ_KEY_PREFIX + sha256Hash, query, { ttl: apqTtlSeconds }),
        }
      : undefined,
    checkHttpRequest(req, body) {
      const search = new URL(req.url ?? '/', 'http://localhost').search;
      for (const request of persistedRequestsOfHttp(body, search)) {
        const resolution = resolvePersistedRequest(request, current(), mode);
        if (resolution.kind === 'refused') throw new HttpError(400, resolution.code, resolution.message);
      }
    },
    plugin: {
      async requestDidStart({ request }) {
        const http = request.http;
        const carried =
          http?.method === 'GET'
            ? persistedRequestsOfHttp(undefined, http.search)[0]
            : isRecord(http?.body)
              ? http.body
              : {};
        const resolution = resolvePersistedRequest(
          { query: request.query, extensions: request.extensions, documentId: carried?.documentId },
          current(),
          mode,
        );
        const { persistedQuery: _dropped, ...extensions } = request.extensions ?? {};
        if (resolution.kind === 'manifest') {
          request.query = resolution.operation.body;
          request.extensions = extensions;
        } else if (resolution.kind === 'apq') {
          request.extensions = { ...extensions, persistedQuery: { version: 1, sha256Hash: resolution.sha256Hash } };
        } else if (resolution.kind === 'refused') {
          // The HTTP check refused it already unless the manifest changed in between: run nothing.
          delete request.query;
          request.extensions = extensions;
        }
        return {
          async willSendResponse({ request: sent, response, operation, contextValue }) {
            if (sent.http?.method !== 'GET') return;
            const cacheable =
              getMaxAgeSeconds > 0 &&
              operation?.operation === 'query' &&
              contextValue.identity.userId === null &&
              response.body.kind === 'single' &&
              !response.body.singleResult.errors;
            // `public, max-age` (this order) is a header Apollo's cache-control plugin leaves alone.
            response.http.headers.set('cache-control', cacheable ? `public, max-age=${getMaxAgeSeconds}` : 'no-store');
            response.http.headers.set('vary', VARY);
          },
        };
      },
    },
    stop: () => source?.stop(),
  };
}

/**
 * Apollo's `KeyValueCache` over Redis, so every gateway instance shares the
 * APQ registrations. Fails open: an unreachable Redis is a cache miss (the
 * client sends the full query again), never an error or a hang.
 */
export function createRedisKeyValueCache(
  redis: Redis,
  { prefix = 'gateway:apq:', timeoutMs = 250 }: { prefix?: string; timeoutMs?: number } = {},
): NonNullable<PersistedQueryOptions['cache']> {
  async function bounded<T>(work: Promise<T>, fallback: T, what: string): Promise<T> {
    try {
      return await withDeadline(work, timeoutMs, () => fallback);
    } catch (error) {
      log.error(`APQ cache ${what} failed: ${reason(error)}`);
      return fallback;
    }
  }
  return {
    get: (key) =>
      bounded(
        redis.get(prefix + key).then((value) => value ?? undefined),
        undefined,
        'read',
      ),
    set: async (key, value, options) => {
      const ttl = options?.ttl;
      await bounded(
        (ttl ? redis.set(prefix + key, value, 'EX', Math.ceil(ttl)) : redis.set(prefix + key, value)).then(() => {}),
        undefined,
        'write',
      );
    },
    delete: (key) =>
      bounded(
        redis.del(prefix + key).then((count) => count > 0),
        false,
        'delete',
      ),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
