import type { IncomingMessage } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { buildASTSchema, GraphQLError, Kind, parse, type DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { HttpError } from '@supergraph/platform';
import { DEFAULT_LIST_SIZE, measureOperation } from './operation-measure.ts';

/**
 * What one operation may ask for. Defaults follow GraphQL Armor's (depth,
 * aliases, directives, tokens, cost) and Apollo Router's demand control (the
 * cost model): every composite field costs 1 per object it returns, leaves
 * cost 0, a mutation's root field 10; lists multiply by their `first`/`last`
 * argument (its schema default when not sent) or `defaultListSize`.
 */
export interface OperationLimits {
  /** Longest chain of nested fields (`{ me { id } }` is 2). */
  maxDepth: number;
  /** Aliased fields, counted once per place a fragment is spread. */
  maxAliases: number;
  /** Fields selected directly on the operation's root type. */
  maxRootFields: number;
  /** Directive uses (`@include`, `@skip`, …). */
  maxDirectives: number;
  /** Lexical tokens; applied while parsing, so a bigger document is never built. */
  maxTokens: number;
  /** Estimated cost (see above). */
  maxCost: number;
  /** The assumed length of a list field without a `first`/`last` argument. */
  defaultListSize: number;
  /** Operations per JSON batch (an array body); 0 refuses batches. */
  maxBatchSize: number;
}

export const DEFAULT_OPERATION_LIMITS: Readonly<OperationLimits> = Object.freeze({
  maxDepth: 8,
  maxAliases: 15,
  maxRootFields: 20,
  maxDirectives: 50,
  maxTokens: 1_000,
  maxCost: 5_000,
  defaultListSize: DEFAULT_LIST_SIZE,
  maxBatchSize: 0,
});

type Limit = 'depth' | 'aliases' | 'rootFields' | 'directives' | 'tokens' | 'cost';

const BREACHES: Record<Limit, { code: string; what: string; option: keyof OperationLimits }> = {
  depth: { code: 'MAX_DEPTH_EXCEEDED', what: 'Query is nested too deeply', option: 'maxDepth' },
  aliases: { code: 'MAX_ALIASES_EXCEEDED', what: 'Query uses too many aliases', option: 'maxAliases' },
  rootFields: { code: 'MAX_ROOT_FIELDS_EXCEEDED', what: 'Query selects too many root fields', option: 'maxRootFields' },
  directives: { code: 'MAX_DIRECTIVES_EXCEEDED', what: 'Query uses too many directives', option: 'maxDirectives' },
  tokens: { code: 'MAX_TOKENS_EXCEEDED', what: 'Query document is too large', option: 'maxTokens' },
  cost: { code: 'MAX_COST_EXCEEDED', what: 'Query is too expensive', option: 'maxCost' },
};

// graphql-js 16 writes "more that"; accept the corrected spelling too.
const TOKEN_LIMIT_MESSAGE = /Document contains more tha[nt] \d+ tokens/;

export interface OperationLimitsOptions {
  /** The supergraph: field types, list types and `first`/`last` defaults come from it. */
  supergraph: DocumentNode;
  limits?: Partial<OperationLimits>;
  /** Production messages name the breached limit but never its configured value. */
  production: boolean;
  /** With introspection on, `__schema`/`__type` selections are not measured (the Sandbox's query is 13 levels deep). */
  introspection: boolean;
}

/** One JSON request entry as the GraphQL-over-HTTP spec shapes it. */
interface GraphQLRequestBody {
  query?: unknown;
  variables?: unknown;
}

/**
 * The gateway's operation limits, checked at the HTTP edge before Apollo
 * parses, validates or plans anything: the document is parsed once with
 * `maxTokens` (a huge one is refused before it is built), then measured.
 * Apollo Server's plugin hooks cannot refuse a request before validation
 * (an exception there becomes a 500), hence the edge; the plugin only gives
 * Apollo's own token-limit parse error (persisted queries read from a cache)
 * the same code.
 */
export function createOperationLimits(options: OperationLimitsOptions) {
  const schema = buildASTSchema(options.supergraph, { assumeValidSDL: true, assumeValid: true });
  const limits: OperationLimits = { ...DEFAULT_OPERATION_LIMITS, ...definedOnly(options.limits ?? {}) };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < (name === 'maxBatchSize' ? 0 : 1))
      throw new Error(`Operation limit ${name} must be a positive integer (got ${value})`);
  }

  function breach(limit: Limit, found: number | undefined): HttpError {
    const { code, what, option } = BREACHES[limit];
    const message =
      options.production || found === undefined
        ? what
        : `${what}: ${found} where the limit (${option}) is ${limits[option]}`;
    return new HttpError(400, code, message);
  }

  /**
   * Query texts that passed without variables: the verdict depends on the
   * text, the variables and the limits alone, so the same text with no
   * variables passes again without being parsed and measured (bounded by the
   * texts' total length).
   */
  const passed = new LRUCache<string, true>({
    maxSize: 8 * 1024 * 1024,
    sizeCalculation: (_, query) => query.length || 1,
  });

  /** Throws {@link HttpError} for the first limit `query` breaches; a document that does not parse is left to Apollo. */
  function checkQuery(query: string, variables: Readonly<Record<string, unknown>> | undefined): void {
    const cacheable = variables === undefined || Object.keys(variables).length === 0;
    if (cacheable && passed.get(query)) return;
    measureQuery(query, variables);
    if (cacheable && query.length <= 1024 * 1024) passed.set(query, true);
  }

  function measureQuery(query: string, variables: Readonly<Record<string, unknown>> | undefined): void {
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: limits.maxTokens, noLocation: true });
    } catch (error) {
      if (error instanceof GraphQLError && TOKEN_LIMIT_MESSAGE.test(error.message)) throw breach('tokens', undefined);
      return;
    }
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      const measured = measureOperation(schema, document, definition, {
        ...(variables ? { variables } : {}),
        defaultListSize: limits.defaultListSize,
        countIntrospection: !options.introspection,
      });
      if (measured.depth > limits.maxDepth) throw breach('depth', measured.depth);
      if (measured.aliases > limits.maxAliases) throw breach('aliases', measured.aliases);
      if (measured.rootFields > limits.maxRootFields) throw breach('rootFields', measured.rootFields);
      if (measured.directives > limits.maxDirectives) throw breach('directives', measured.directives);
      if (measured.cost > limits.maxCost) throw breach('cost', measured.cost);
    }
  }

  function checkEntry(entry: unknown): void {
    if (typeof entry !== 'object' || entry === null) return;
    const { query, variables } = entry as GraphQLRequestBody;
    if (typeof query !== 'string') return;
    checkQuery(query, isRecord(variables) ? variables : undefined);
  }

  /**
   * Checks one HTTP request (the parsed JSON body of a POST, the search
   * parameters of a GET) and throws {@link HttpError} on a breach or a refused
   * batch. Requests without query text (a persisted-query hash) pass: their
   * text was checked when it was registered.
   */
  function checkHttpRequest(req: IncomingMessage, body: unknown): void {
    if (Array.isArray(body)) {
      if (limits.maxBatchSize === 0)
        throw new HttpError(400, 'BATCH_REQUESTS_DISABLED', 'Batched requests (a JSON array body) are not accepted');
      if (body.length > limits.maxBatchSize)
        throw new HttpError(
          400,
          'MAX_BATCH_SIZE_EXCEEDED',
          options.production
            ? 'Too many operations in one batch'
            : `Too many operations in one batch: ${body.length} where the limit (maxBatchSize) is ${limits.maxBatchSize}`,
        );
      for (const entry of body) checkEntry(entry);
      return;
    }
    if (body !== undefined) return checkEntry(body);
    if ((req.method ?? 'GET').toUpperCase() !== 'GET') return;
    const search = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const query = search.get('query');
    if (query === null) return;
    let variables: unknown;
    try {
      variables = JSON.parse(search.get('variables') ?? 'null');
    } catch {
      variables = undefined;
    }
    checkQuery(query, isRecord(variables) ? variables : undefined);
  }

  const plugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            if (!TOKEN_LIMIT_MESSAGE.test(error.message)) continue;
            const refused = breach('tokens', undefined);
            error.message = refused.message;
            (error.extensions as Record<string, unknown>)['code'] = refused.code;
          }
        },
      };
    },
  };

  return {
    limits: Object.freeze(limits),
    /** For `ApolloServer`'s `parseOptions`: the same token limit on every document Apollo parses itself. */
    parseOptions: { maxTokens: limits.maxTokens },
    /** For `ApolloServer`'s `allowBatchedHttpRequests`. */
    allowBatchedHttpRequests: limits.maxBatchSize > 0,
    checkHttpRequest,
    checkQuery,
    plugin,
  };
}

export type OperationLimitsGuard = ReturnType<typeof createOperationLimits>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
