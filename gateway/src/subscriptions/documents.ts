import { createHash } from 'node:crypto';
import { GraphQLError, parse, type DocumentNode, type ExecutionResult } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { PersistedDocuments } from '../persisted-documents.ts';
import type { SubscriptionRequest } from './core.ts';
import { refusal } from './results.ts';

export interface SubscriptionDocuments {
  /** The document text a request runs (manifest body, APQ registration or lookup), or why not. */
  textOf(request: SubscriptionRequest): Promise<string | ExecutionResult>;
  /** The text without APQ lookups (manifest or inline), for routing before anything is awaited. */
  inlineTextOf(request: SubscriptionRequest): string | undefined;
  /** Parsed with the gateway's token limit; cached by text (a syntax error too). */
  parse(query: string): DocumentNode | GraphQLError;
}

/**
 * Where a subscription's document comes from: the same persisted-document
 * rules as the HTTP path (trusted manifest, safelist, APQ with Apollo's
 * wording and codes), for every transport.
 */
export function createSubscriptionDocuments(options: {
  persistedDocuments: Pick<PersistedDocuments, 'resolve' | 'apq'>;
  maxTokens: number;
  cacheSize: number;
}): SubscriptionDocuments {
  const parsed = new LRUCache<string, DocumentNode | GraphQLError>({ max: options.cacheSize });
  return {
    async textOf(request) {
      const resolution = options.persistedDocuments.resolve(request);
      if (resolution.kind === 'refused') return refusal(resolution.code, resolution.message);
      if (resolution.kind === 'manifest') return resolution.operation.body;
      const persisted = persistedQueryOf(request);
      const sha256Hash = resolution.kind === 'apq' ? resolution.sha256Hash : persisted?.sha256Hash;
      if (sha256Hash === undefined) {
        if (persisted) return refusal('BAD_REQUEST', 'Unsupported persisted query version');
        return typeof request.query === 'string' && request.query !== ''
          ? request.query
          : refusal(
              'BAD_REQUEST',
              'GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.',
            );
      }
      const apq = options.persistedDocuments.apq;
      if (!apq) return refusal('PERSISTED_QUERY_NOT_SUPPORTED', 'PersistedQueryNotSupported');
      if (persisted && persisted.version !== 1) return refusal('BAD_REQUEST', 'Unsupported persisted query version');
      const key = sha256Hash.toLowerCase();
      if (typeof request.query === 'string') {
        if (createHash('sha256').update(request.query).digest('hex') !== key)
          return refusal('BAD_REQUEST', 'provided sha does not match query');
        await apq.set(key, request.query);
        return request.query;
      }
      return (await apq.get(key)) ?? refusal('PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound');
    },
    inlineTextOf(request) {
      const resolution = options.persistedDocuments.resolve(request);
      if (resolution.kind === 'manifest') return resolution.operation.body;
      return resolution.kind === 'pass' && typeof request.query === 'string' ? request.query : undefined;
    },
    parse(query) {
      let document = parsed.get(query);
      if (!document) {
        try {
          document = parse(query, { maxTokens: options.maxTokens, noLocation: false });
        } catch (error) {
          document = error instanceof GraphQLError ? error : new GraphQLError('Syntax Error');
        }
        parsed.set(query, document);
      }
      return document;
    },
  };
}

function persistedQueryOf(request: SubscriptionRequest): { version: unknown; sha256Hash?: string } | undefined {
  const persisted = request.extensions?.['persistedQuery'];
  if (typeof persisted !== 'object' || persisted === null) return undefined;
  const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown };
  return { version, ...(typeof sha256Hash === 'string' ? { sha256Hash } : {}) };
}
