import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from '@supergraph/platform';
import {
  createRedisKeyValueCache,
  persistedRequestsOfHttp,
  resolvePersistedRequest,
  type PersistedDocumentsMode,
} from './persisted-documents.ts';
import {
  EMPTY_MANIFEST,
  loadManifestSource,
  manifestOperationsOf,
  manifestText,
  operationId,
  parseManifest,
} from './persisted-manifest.ts';

const ME = manifestOperationsOf([parse('query Me { me { id } }')]);
const manifest = parseManifest(manifestText(ME));
const meId = ME[0]!.id;

describe('manifestOperationsOf (the default of @apollo/generate-persisted-query-manifest)', () => {
  it('gives the id and body the generator gives (a manifest it wrote)', () => {
    const [operation] = manifestOperationsOf([parse('query ApolloCountries { countries { code name emoji } }')]);
    expect(operation).toEqual({
      id: '9f9d50d29760468b4b4779822fa742270723d2b426a4dcfc93eb3d63d38fda87',
      name: 'ApolloCountries',
      type: 'query',
      body: 'query ApolloCountries {\n  countries {\n    code\n    name\n    emoji\n    __typename\n  }\n}',
    });
  });

  it('adds reached fragments (sorted by name, operations first) and __typename everywhere but the root', () => {
    const operations = manifestOperationsOf([
      parse('fragment B on User { id } fragment A on User { ...B name } fragment Unused on User { id }'),
      parse('mutation Z { login { user { ...A } } } query Y { me { __typename ... on User { id } } }'),
    ]);
    expect(operations.map((operation) => [operation.name, operation.type])).toEqual([
      ['Y', 'query'],
      ['Z', 'mutation'],
    ]);
    expect(operations[1]!.body).toBe(
      'mutation Z {\n  login {\n    user {\n      ...A\n      __typename\n    }\n    __typename\n  }\n}\n\n' +
        'fragment A on User {\n  ...B\n  name\n  __typename\n}\n\nfragment B on User {\n  id\n  __typename\n}',
    );
    expect(operations[0]!.body).toBe(
      'query Y {\n  me {\n    __typename\n    ... on User {\n      id\n      __typename\n    }\n  }\n}',
    );
    expect(operations[1]!.id).toBe(operationId(operations[1]!.body));
  });

  it('refuses anonymous operations, duplicate names and unknown fragments', () => {
    expect(() => manifestOperationsOf([parse('{ me { id } }')])).toThrow(/Anonymous/);
    expect(() => manifestOperationsOf([parse('query A { me { id } }'), parse('query A { me { id } }')])).toThrow(
      /Duplicate operation A/,
    );
    expect(() => manifestOperationsOf([parse('query A { me { ...F } }')])).toThrow(/Unknown fragment F/);
  });
});

describe('parseManifest', () => {
  it.each([
    ['not json', /not JSON/],
    ['{"format":"other","version":1,"operations":[]}', /format/],
    ['{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}', /version 2/],
    [
      '{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"a","name":"A","type":"query","body":"query A {"}]}',
      /does not parse/,
    ],
    [
      '{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"a","name":"A","type":"mutation","body":"query A { me { id } }"}]}',
      /declared mutation/,
    ],
    [
      '{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"a","name":"A","type":"query","body":"query A { me { id } }"},{"id":"a","name":"B","type":"query","body":"query B { me { id } }"}]}',
      /two different bodies/,
    ],
  ])('refuses %s', (text, reason) => {
    expect(() => parseManifest(text)).toThrow(reason);
  });

  it('finds operations by id and by their exact text', () => {
    expect(manifest.byId(meId)?.name).toBe('Me');
    expect(manifest.byBody(ME[0]!.body)?.name).toBe('Me');
    expect(manifest.byBody('query Me { me { id } }')).toBeUndefined();
  });
});

describe('resolvePersistedRequest', () => {
  const resolve = (request: Parameters<typeof resolvePersistedRequest>[0], mode: PersistedDocumentsMode) =>
    resolvePersistedRequest(request, manifest, mode);
  const apq = (sha256Hash: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash } } });
  const unknownHash = 'a'.repeat(64);

  it('serves manifest ids as an Apollo hash or a documentId (sha256: prefixed or not) in allow and safelist', () => {
    for (const mode of ['allow', 'safelist'] as const) {
      for (const request of [apq(meId), { documentId: `sha256:${meId}` }, { documentId: meId }])
        expect(resolve(request, mode)).toMatchObject({ kind: 'manifest', operation: { name: 'Me' } });
    }
  });

  it('safelist refuses unknown hashes, unknown documentIds, APQ registration and free text; accepts listed text', () => {
    for (const request of [
      apq(unknownHash),
      { documentId: `sha256:${unknownHash}` },
      { query: '{ me { id } }', ...apq(operationId('{ me { id } }')) },
      { query: '{ me { id } }' },
    ])
      expect(resolve(request, 'safelist')).toMatchObject({ kind: 'refused', code: 'PERSISTED_QUERY_NOT_IN_LIST' });
    expect(resolve({ query: ME[0]!.body }, 'safelist')).toMatchObject({ kind: 'manifest' });
  });

  it('allow passes APQ and free text to Apollo, and looks an unknown documentId up in the APQ store', () => {
    expect(resolve(apq(unknownHash), 'allow')).toEqual({ kind: 'pass' });
    expect(resolve({ query: '{ me { id } }' }, 'allow')).toEqual({ kind: 'pass' });
    expect(resolve({ documentId: `sha256:${unknownHash.toUpperCase()}` }, 'allow')).toEqual({
      kind: 'apq',
      sha256Hash: unknownHash,
    });
    expect(resolve({ documentId: 'custom-id' }, 'allow')).toMatchObject({ code: 'PERSISTED_QUERY_NOT_FOUND' });
  });

  it('refuses a malformed documentId, or one sent with a query; off passes everything', () => {
    expect(resolve({ documentId: 42 }, 'allow')).toMatchObject({ kind: 'refused', code: 'BAD_REQUEST' });
    expect(resolve({ documentId: meId, query: '{ me { id } }' }, 'safelist')).toMatchObject({ code: 'BAD_REQUEST' });
    expect(resolvePersistedRequest({ documentId: meId }, EMPTY_MANIFEST, 'off')).toEqual({ kind: 'pass' });
  });
});

describe('persistedRequestsOfHttp', () => {
  it('reads a POST body, a batch, or the GET parameters', () => {
    expect(persistedRequestsOfHttp({ documentId: 'x' }, '')).toEqual([{ documentId: 'x' }]);
    expect(persistedRequestsOfHttp([{ query: 'a' }, 1], '')).toEqual([{ query: 'a' }]);
    const search = `?documentId=sha256:${meId}&extensions=${encodeURIComponent(JSON.stringify(apqExtension()))}`;
    expect(persistedRequestsOfHttp(undefined, search)).toEqual([
      { documentId: `sha256:${meId}`, extensions: apqExtension() },
    ]);
    expect(persistedRequestsOfHttp(undefined, '?extensions=%7Bbroken')).toEqual([{}]);
  });
  function apqExtension() {
    return { persistedQuery: { version: 1, sha256Hash: meId } };
  }
});

describe('loadManifestSource', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('swaps in a changed file and keeps the old manifest (saying why) when the new one is bad', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'manifest-'));
    const file = path.join(dir, 'manifest.json');
    writeFileSync(file, manifestText(ME));
    const logged: string[] = [];
    const source = await loadManifestSource(file, { reloadIntervalMs: 0, log: (line) => logged.push(line) });
    expect(source.current().byId(meId)).toBeDefined();

    const both = manifestOperationsOf([parse('query Me { me { id } } query Other { me { username } }')]);
    writeFileSync(file, manifestText(both));
    expect(await source.reload()).toBe(true);
    expect(source.current().operations.map((operation) => operation.name)).toEqual(['Me', 'Other']);

    writeFileSync(file, '{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":1}]}');
    expect(await source.reload()).toBe(false);
    expect(source.current().operations).toHaveLength(2);
    expect(logged.at(-1)).toMatch(/rejected, keeping the previous one: operations\[0\]\.id/);
    source.stop();
  });

  it('refuses to start on an unreadable or invalid manifest', async () => {
    await expect(loadManifestSource('/nonexistent/manifest.json', { log: () => {} })).rejects.toThrow(
      /manifest \/nonexistent\/manifest\.json: ENOENT/,
    );
  });
});

describe('createRedisKeyValueCache', () => {
  it('treats a hung or failing Redis as a miss instead of waiting', async () => {
    const hung = { get: () => new Promise(() => {}), set: () => Promise.reject(new Error('down')) } as unknown as Redis;
    const cache = createRedisKeyValueCache(hung, { timeoutMs: 20 });
    const started = Date.now();
    expect(await cache.get('k')).toBeUndefined();
    await expect(cache.set('k', 'v', { ttl: 5 })).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
