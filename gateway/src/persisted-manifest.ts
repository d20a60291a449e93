import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  Kind,
  parse,
  print,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { createLogger } from '@supergraph/platform';

/**
 * Apollo's persisted-query manifest (`apollo-persisted-query-manifest`,
 * version 1): how it is built from `.graphql` files, parsed, and loaded and
 * reloaded by the gateway.
 */
export const MANIFEST_FORMAT = 'apollo-persisted-query-manifest';

export interface PersistedQueryManifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  operations: ManifestOperation[];
}

export interface ManifestOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

/** A loaded manifest: immutable, swapped whole on reload. */
export interface Manifest {
  readonly operations: readonly ManifestOperation[];
  byId(id: string): ManifestOperation | undefined;
  /** The operation whose body is exactly `text` (by sha256), for clients that send the full text. */
  byBody(text: string): ManifestOperation | undefined;
}

export const EMPTY_MANIFEST: Manifest = manifestOf([]);

/** The id `@apollo/generate-persisted-query-manifest` gives a body by default: its sha256, hex. */
export function operationId(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Parses Apollo's persisted-query manifest format
 * (`{ format: "apollo-persisted-query-manifest", version: 1, operations }`),
 * throwing with the first reason it is unusable: every body must parse and
 * declare the type it claims, and an id may not name two bodies.
 */
export function parseManifest(text: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('not JSON');
  }
  if (!isRecord(json) || json['format'] !== MANIFEST_FORMAT)
    throw new Error('format is not "apollo-persisted-query-manifest"');
  if (json['version'] !== 1) throw new Error(`unsupported version ${JSON.stringify(json['version'])}`);
  const operations = json['operations'];
  if (!Array.isArray(operations)) throw new Error('operations is not an array');
  const seen = new Map<string, string>();
  const parsed = operations.map((entry: unknown, index): ManifestOperation => {
    const where = `operations[${index}]`;
    if (!isRecord(entry)) throw new Error(`${where} is not an object`);
    const { id, name, type, body } = entry;
    if (typeof id !== 'string' || id === '') throw new Error(`${where}.id is not a non-empty string`);
    if (typeof name !== 'string') throw new Error(`${where}.name is not a string`);
    if (type !== 'query' && type !== 'mutation' && type !== 'subscription')
      throw new Error(`${where}.type is not query, mutation or subscription`);
    if (typeof body !== 'string') throw new Error(`${where}.body is not a string`);
    let declared: string | undefined;
    try {
      declared = parse(body).definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION)?.operation;
    } catch (error) {
      throw new Error(`${where} (${name}) does not parse: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (declared !== type) throw new Error(`${where} (${name}) is declared ${type} but its body is ${declared}`);
    if (seen.has(id) && seen.get(id) !== body) throw new Error(`${where}: id ${id} names two different bodies`);
    seen.set(id, body);
    return { id, name, type, body };
  });
  return manifestOf(parsed);
}

function manifestOf(operations: readonly ManifestOperation[]): Manifest {
  const byId = new Map(operations.map((operation) => [operation.id, operation]));
  const byBodyHash = new Map(operations.map((operation) => [operationId(operation.body), operation]));
  return Object.freeze({
    operations,
    byId: (id: string) => byId.get(id),
    byBody: (text: string) => byBodyHash.get(operationId(text)),
  });
}

const TYPENAME_FIELD: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

/**
 * The manifest entries of `documents`, exactly as
 * `@apollo/generate-persisted-query-manifest` (default config) writes them, so
 * ids match what Apollo clients send: each named operation with the fragments
 * it reaches, definitions sorted (operations before fragments, each by name),
 * `__typename` added to every selection set but the operation's own (Apollo
 * Client's `addTypenameToDocument`), printed by graphql-js; id = sha256 of that
 * text; entries sorted by name. Throws on anonymous operations, duplicate
 * names and unknown fragments.
 */
export function manifestOperationsOf(documents: readonly DocumentNode[]): ManifestOperation[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const definition of documents.flatMap((document) => document.definitions)) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      if (fragments.has(definition.name.value)) throw new Error(`Duplicate fragment ${definition.name.value}`);
      fragments.set(definition.name.value, definition);
    } else if (definition.kind === Kind.OPERATION_DEFINITION) {
      if (!definition.name) throw new Error('Anonymous GraphQL operations are not supported. Please name your query.');
      if (operations.some((other) => other.name?.value === definition.name?.value))
        throw new Error(`Duplicate operation ${definition.name.value}`);
      operations.push(definition);
    }
  }
  return operations
    .map((operation) => {
      const document: DocumentNode = {
        kind: Kind.DOCUMENT,
        definitions: [operation, ...reachedFragments(operation, fragments)],
      };
      const body = print(addTypename(sortTopLevelDefinitions(document)));
      return { id: operationId(body), name: operation.name?.value ?? '', type: operation.operation, body };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function reachedFragments(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): FragmentDefinitionNode[] {
  const reached = new Map<string, FragmentDefinitionNode>();
  const pending: DefinitionNode[] = [operation];
  while (pending.length > 0) {
    visit(pending.pop()!, {
      FragmentSpread(node) {
        const name = node.name.value;
        if (reached.has(name)) return;
        const fragment = fragments.get(name);
        if (!fragment) throw new Error(`Unknown fragment ${name} in ${operation.name?.value ?? 'an operation'}`);
        reached.set(name, fragment);
        pending.push(fragment);
      },
    });
  }
  return [...reached.values()];
}

/** Operations before fragments (a reverse sort by kind), then by name: the generator's `sortTopLevelDefinitions`. */
function sortTopLevelDefinitions(document: DocumentNode): DocumentNode {
  const nameOf = (definition: DefinitionNode) =>
    definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION
      ? (definition.name?.value ?? '')
      : '';
  const definitions = [...document.definitions].sort((a, b) => {
    if (a.kind !== b.kind) return a.kind > b.kind ? -1 : 1;
    const [aName, bName] = [nameOf(a), nameOf(b)];
    return aName < bName ? -1 : aName > bName ? 1 : 0;
  });
  return { ...document, definitions };
}

/** Apollo Client's `addTypenameToDocument`. */
function addTypename(document: DocumentNode): DocumentNode {
  return visit(document, {
    SelectionSet: {
      enter(node: SelectionSetNode, _key, parent) {
        if (parent && !Array.isArray(parent) && (parent as { kind?: string }).kind === Kind.OPERATION_DEFINITION)
          return;
        const skip = node.selections.some(
          (selection) =>
            selection.kind === Kind.FIELD &&
            (selection.name.value === '__typename' || selection.name.value.startsWith('__')),
        );
        if (skip) return;
        const field = parent as FieldNode | undefined;
        if (
          field &&
          !Array.isArray(field) &&
          field.kind === Kind.FIELD &&
          field.directives?.some((d) => d.name.value === 'export')
        )
          return;
        return { ...node, selections: [...node.selections, TYPENAME_FIELD] };
      },
    },
  });
}

/** The manifest file's text for `operations` (two-space JSON and a final newline, as the generator writes it). */
export function manifestText(operations: readonly ManifestOperation[]): string {
  const manifest: PersistedQueryManifest = { format: MANIFEST_FORMAT, version: 1, operations: [...operations] };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export interface ManifestSource {
  current(): Manifest;
  /** Loads the source again; false (old manifest kept, reason logged) when it is unreadable or invalid. */
  reload(): Promise<boolean>;
  stop(): void;
}

export interface ManifestSourceOptions {
  /** Poll interval; reload picks up changed files and URLs. Default 10 s; 0 disables polling. */
  reloadIntervalMs?: number;
  log?: (message: string) => void;
}

/**
 * Loads a manifest from a file path or an http(s) URL and keeps it fresh by
 * polling (robust to the atomic rename and symlink swaps that deployments and
 * Kubernetes ConfigMaps use, where file watchers miss events). Each reload
 * parses the whole manifest before one reference swap, so a request sees the
 * old or the new list, never a mix; a bad manifest keeps the old one. The
 * first load must succeed (a gateway never starts without its list).
 */
export async function loadManifestSource(
  location: string,
  options: ManifestSourceOptions = {},
): Promise<ManifestSource> {
  const log = options.log ?? ((message: string) => createLogger('gateway').error(message));
  const isUrl = /^https?:\/\//i.test(location);
  let manifest: Manifest;
  let lastText: string | undefined;
  let etag: string | undefined;

  /** The manifest text, or undefined when unchanged since the last load. */
  async function fetchText(): Promise<string | undefined> {
    if (!isUrl) return readFile(location, 'utf8');
    const response = await fetch(location, {
      headers: etag ? { 'if-none-match': etag } : {},
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 304) return undefined;
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    etag = response.headers.get('etag') ?? undefined;
    return response.text();
  }

  async function load(): Promise<Manifest | undefined> {
    const text = await fetchText();
    if (text === undefined || text === lastText) return undefined;
    const next = parseManifest(text);
    lastText = text;
    return next;
  }

  try {
    manifest = (await load()) ?? EMPTY_MANIFEST;
  } catch (error) {
    throw new Error(`persisted-document manifest ${location}: ${reason(error)}`);
  }
  log(`[gateway] persisted-document manifest ${location}: ${manifest.operations.length} operations`);

  let reloading: Promise<boolean> | undefined;
  const reload = () =>
    (reloading ??= (async () => {
      try {
        const next = await load();
        if (next) {
          manifest = next;
          log(`[gateway] persisted-document manifest reloaded: ${next.operations.length} operations`);
        }
        return true;
      } catch (error) {
        log(`[gateway] persisted-document manifest ${location} rejected, keeping the previous one: ${reason(error)}`);
        return false;
      } finally {
        reloading = undefined;
      }
    })());

  const interval = options.reloadIntervalMs ?? 10_000;
  const timer = interval > 0 ? setInterval(() => void reload(), interval) : undefined;
  timer?.unref();
  return { current: () => manifest, reload, stop: () => clearInterval(timer) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
