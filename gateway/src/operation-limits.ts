import type { IncomingMessage } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import {
  buildASTSchema,
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { HttpError } from '@supergraph/platform';

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
  defaultListSize: 10,
  maxBatchSize: 0,
});

/** What {@link measureOperation} found in one operation. */
export interface OperationMeasure {
  depth: number;
  aliases: number;
  rootFields: number;
  directives: number;
  cost: number;
}

type Limit = 'depth' | 'aliases' | 'rootFields' | 'directives' | 'tokens' | 'cost';

const BREACHES: Record<Limit, { code: string; what: string; option: keyof OperationLimits }> = {
  depth: { code: 'MAX_DEPTH_EXCEEDED', what: 'Query is nested too deeply', option: 'maxDepth' },
  aliases: { code: 'MAX_ALIASES_EXCEEDED', what: 'Query uses too many aliases', option: 'maxAliases' },
  rootFields: { code: 'MAX_ROOT_FIELDS_EXCEEDED', what: 'Query selects too many root fields', option: 'maxRootFields' },
  directives: { code: 'MAX_DIRECTIVES_EXCEEDED', what: 'Query uses too many directives', option: 'maxDirectives' },
  tokens: { code: 'MAX_TOKENS_EXCEEDED', what: 'Query document is too large', option: 'maxTokens' },
  cost: { code: 'MAX_COST_EXCEEDED', what: 'Query is too expensive', option: 'maxCost' },
};

const MUTATION_FIELD_COST = 10;
const SLICING_ARGUMENTS = ['first', 'last'];
// graphql-js 16 writes "more that"; accept the corrected spelling too.
const TOKEN_LIMIT_MESSAGE = /Document contains more tha[nt] \d+ tokens/;

interface Measured {
  depth: number;
  aliases: number;
  fields: number;
  directives: number;
  cost: number;
}

const NOTHING: Measured = { depth: 0, aliases: 0, fields: 0, directives: 0, cost: 0 };

/**
 * Measures one operation of a parsed (not yet validated) document. Fragments
 * are followed where they are spread, each measured once per parent size
 * (so nested spreads stay linear) and a fragment cycle counts as nothing —
 * validation refuses it later. Unknown fields count as composite without
 * children's types: the estimate never fails on a document validation would
 * refuse anyway.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  options: {
    variables?: Readonly<Record<string, unknown>>;
    defaultListSize?: number;
    countIntrospection?: boolean;
  } = {},
): OperationMeasure {
  const defaultListSize = options.defaultListSize ?? DEFAULT_OPERATION_LIMITS.defaultListSize;
  const countIntrospection = options.countIntrospection ?? true;
  const variables = options.variables ?? {};
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variableDefaults = new Map<string, ValueNode>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) variableDefaults.set(definition.variable.name.value, definition.defaultValue);
  }
  const memo = new Map<string, Measured>();
  const inProgress = new Set<string>();
  const isMutation = operation.operation === 'mutation';

  function intValue(node: ValueNode | undefined): number | undefined {
    if (!node) return undefined;
    if (node.kind === Kind.INT) return Math.max(0, Number(node.value));
    if (node.kind === Kind.VARIABLE) {
      const sent = variables[node.name.value];
      if (typeof sent === 'number' && Number.isInteger(sent)) return Math.max(0, sent);
      return sent === undefined ? intValue(variableDefaults.get(node.name.value)) : undefined;
    }
    return undefined;
  }

  function measure(
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType | undefined,
    sizedBy: number | undefined,
    atRoot: boolean,
  ): Measured {
    const total = { ...NOTHING };
    const add = (part: Measured) => {
      total.depth = Math.max(total.depth, part.depth);
      total.aliases += part.aliases;
      total.fields += part.fields;
      total.directives += part.directives;
      total.cost = Math.min(total.cost + part.cost, Number.MAX_VALUE);
    };
    for (const selection of selectionSet.selections) {
      const directives = selection.directives?.length ?? 0;
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        const key = `${name}:${sizedBy ?? ''}:${atRoot}`;
        let part = memo.get(key);
        if (!part && fragment && !inProgress.has(name)) {
          inProgress.add(name);
          part = measure(
            fragment.selectionSet,
            typeNamed(fragment.typeCondition.name.value) ?? parent,
            sizedBy,
            atRoot,
          );
          inProgress.delete(name);
          memo.set(key, part);
        }
        add({ ...(part ?? NOTHING), directives: (part?.directives ?? 0) + directives });
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? (typeNamed(selection.typeCondition.name.value) ?? parent) : parent;
        const part = measure(selection.selectionSet, type, sizedBy, atRoot);
        add({ ...part, directives: part.directives + directives });
        continue;
      }
      const name = selection.name.value;
      if (!countIntrospection && (name === '__schema' || name === '__type')) continue;
      const field = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
      const returns = field ? getNamedType(field.type) : undefined;
      const isComposite = returns ? isCompositeType(returns) : selection.selectionSet !== undefined;
      const slice = field
        ? firstDefined(
            SLICING_ARGUMENTS.map((argument) => {
              const sent = selection.arguments?.find((arg) => arg.name.value === argument)?.value;
              if (sent) return intValue(sent);
              const declared = field.args.find((arg) => arg.name === argument)?.defaultValue;
              return typeof declared === 'number' ? declared : undefined;
            }),
          )
        : undefined;
      const isList = field ? isListType(getNullableType(field.type)) : false;
      const size = isList ? (slice ?? sizedBy ?? defaultListSize) : 1;
      const weight = atRoot && isMutation ? MUTATION_FIELD_COST : isComposite ? 1 : 0;
      const children = selection.selectionSet
        ? measure(
            selection.selectionSet,
            returns && isCompositeType(returns) ? returns : undefined,
            isList ? undefined : slice,
            false,
          )
        : NOTHING;
      add({
        depth: 1 + children.depth,
        aliases: (selection.alias ? 1 : 0) + children.aliases,
        fields: 1,
        directives: directives + children.directives,
        cost: product(size, weight + children.cost),
      });
    }
    return total;
  }

  function typeNamed(name: string): GraphQLCompositeType | undefined {
    const type = schema.getType(name);
    return type && isCompositeType(type) ? type : undefined;
  }

  const root = schema.getRootType(operation.operation) ?? undefined;
  const measured = measure(operation.selectionSet, root, undefined, true);
  return {
    depth: measured.depth,
    aliases: measured.aliases,
    rootFields: measured.fields,
    directives: measured.directives + (operation.directives?.length ?? 0),
    cost: measured.cost,
  };
}

/** `a × b` that stays finite and treats `0 × anything` as 0 (a `first: 0` list costs nothing, however deep). */
function product(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : Math.min(a * b, Number.MAX_VALUE);
}

function firstDefined(values: Array<number | undefined>): number | undefined {
  return values.find((value) => value !== undefined);
}

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
