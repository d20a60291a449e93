import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANONYMOUS,
  captureLogs,
  generateInternalKeyPair,
  importInternalSigningKey,
  type Identity,
} from '@supergraph/platform';
import { copyJson, SubgraphDataSource, type SubgraphFetchContext } from './subgraph-data-source.ts';

const ALICE: Identity = { userId: 'u-1', roles: ['user'], scopes: [], tier: 'free', via: 'jwt', clientIp: '10.0.0.1' };
const QUERY = '{ products { id } }';

/** Answers every POST after 50 ms (so concurrent fetches overlap) and remembers what it got. */
let server: Server;
let url: string;
const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
let key: Awaited<ReturnType<typeof importInternalSigningKey>>;

beforeAll(async () => {
  key = await importInternalSigningKey(generateInternalKeyPair().privateKeyPem);
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const slow = req.url === '/slow';
      setTimeout(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"products":[{"id":"p1"}]}}'),
        slow ? 1_000 : 50,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function fetchOptions(
  identity: Identity,
  query = QUERY,
  requestId = 'r-1',
): GraphQLDataSourceProcessOptions<SubgraphFetchContext> {
  const context = { identity, requestId };
  return {
    kind: 'incoming operation',
    request: { query, variables: {} },
    document: parse(query),
    context,
    incomingRequestContext: { context },
  } as unknown as GraphQLDataSourceProcessOptions<SubgraphFetchContext>;
}

async function fetchedDuring(work: () => Promise<unknown>): Promise<number> {
  const before = received.length;
  await work();
  return received.length - before;
}

describe('SubgraphDataSource', () => {
  it('shares one exchange between identical concurrent queries of one identity; each caller gets its own copy', async () => {
    const source = new SubgraphDataSource({ name: 'catalog', url, internalTokenKey: key, timeoutMs: 2_000 });
    let answers: unknown[] = [];
    const fetched = await fetchedDuring(async () => {
      answers = await Promise.all([1, 2, 3].map((n) => source.process(fetchOptions(ALICE, QUERY, `r-${n}`))));
    });
    expect(fetched).toBe(1);
    expect(answers[0]).toEqual({ data: { products: [{ id: 'p1' }] } });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[1]).not.toBe(answers[0]);
    await source.close();
  });

  it('parses a shared answer once and hands out copies that each caller may change as it resumes', async () => {
    const source = new SubgraphDataSource({ name: 'catalog', url, internalTokenKey: key, timeoutMs: 2_000 });
    type Answer = { data: { products: Array<Record<string, unknown>> } };
    // As the executor does: each caller merges into what it got right when it resumes, before the next resumes.
    const answers = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        source.process(fetchOptions(ALICE, QUERY, `r-${n}`)).then((answer) => {
          const products = (answer as Answer).data.products;
          products[0]!['seenBy'] = n;
          products.push({ id: `extra-${n}` });
          return answer as Answer;
        }),
      ),
    );
    answers.forEach((answer, index) =>
      expect(answer).toEqual({ data: { products: [{ id: 'p1', seenBy: index + 1 }, { id: `extra-${index + 1}` }] } }),
    );
    await source.close();
  });

  it('never shares across identities, different bodies, mutations, or with dedup off', async () => {
    const source = new SubgraphDataSource({ name: 'catalog', url, internalTokenKey: key, timeoutMs: 2_000 });
    const bob = { ...ALICE, userId: 'u-2' };
    const sameIpOtherUser = await fetchedDuring(() =>
      Promise.all([source.process(fetchOptions(ALICE)), source.process(fetchOptions(bob))]),
    );
    const otherIp = await fetchedDuring(() =>
      Promise.all([
        source.process(fetchOptions(ANONYMOUS)),
        source.process(fetchOptions({ ...ANONYMOUS, clientIp: '10.0.0.9' })),
      ]),
    );
    const otherBody = await fetchedDuring(() =>
      Promise.all([
        source.process(fetchOptions(ALICE)),
        source.process(fetchOptions(ALICE, '{ products { id name } }')),
      ]),
    );
    const mutation = 'mutation { addProduct { id } }';
    const mutations = await fetchedDuring(() =>
      Promise.all([source.process(fetchOptions(ALICE, mutation)), source.process(fetchOptions(ALICE, mutation))]),
    );
    await source.close();
    const off = new SubgraphDataSource({ name: 'catalog', url, internalTokenKey: key, timeoutMs: 2_000, dedup: false });
    const withDedupOff = await fetchedDuring(() =>
      Promise.all([off.process(fetchOptions(ALICE)), off.process(fetchOptions(ALICE))]),
    );
    await off.close();
    expect({ sameIpOtherUser, otherIp, otherBody, mutations, withDedupOff }).toEqual({
      sameIpOtherUser: 2,
      otherIp: 2,
      otherBody: 2,
      mutations: 2,
      withDedupOff: 2,
    });
  });

  it('sends the internal token, request id and JSON body, and reuses the token for the next request', async () => {
    const source = new SubgraphDataSource({ name: 'catalog', url, internalTokenKey: key, timeoutMs: 2_000 });
    await source.process(fetchOptions(ALICE, QUERY, 'r-a'));
    await source.process(fetchOptions(ALICE, QUERY, 'r-b'));
    await source.close();
    const [first, second] = received.slice(-2);
    expect(first?.headers['x-request-id']).toBe('r-a');
    expect(second?.headers['x-request-id']).toBe('r-b');
    expect(first?.headers['content-type']).toBe('application/json');
    expect(first?.headers['x-internal-token']).toMatch(/^ey/);
    expect(second?.headers['x-internal-token']).toBe(first?.headers['x-internal-token']);
    expect(JSON.parse(first?.body ?? '')).toEqual({ query: QUERY, variables: {} });
  });

  it('turns a refused connection and a timeout into SERVICE_UNAVAILABLE at the fields', async () => {
    const lines: string[] = [];
    const stopCapture = captureLogs((line) => lines.push(line));
    const refused = new SubgraphDataSource({
      name: 'gone',
      url: 'http://127.0.0.1:9/graphql',
      internalTokenKey: key,
      timeoutMs: 500,
    });
    const slow = new SubgraphDataSource({
      name: 'slow',
      url: url.replace('/graphql', '/slow'),
      internalTokenKey: key,
      timeoutMs: 100,
    });
    expect(await refused.process(fetchOptions(ALICE))).toEqual({
      errors: [
        { message: 'Service "gone" is unavailable', path: ['products'], extensions: { code: 'SERVICE_UNAVAILABLE' } },
      ],
    });
    expect(await slow.process(fetchOptions(ALICE))).toEqual({
      errors: [
        { message: 'Service "slow" timed out', path: ['products'], extensions: { code: 'SERVICE_UNAVAILABLE' } },
      ],
    });
    stopCapture();
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        level: 'error',
        subgraph: 'gone',
        msg: expect.stringMatching(/subgraph gone failed: .*ECONNREFUSED/),
      }),
      expect.objectContaining({ level: 'error', subgraph: 'slow', msg: 'subgraph slow failed: timeout' }),
    ]);
    await Promise.all([refused.close(), slow.close()]);
  });

  it('copies parsed JSON deeply, an own __proto__ key kept as data (never a prototype)', () => {
    const parsed = JSON.parse('{"data":{"__proto__":{"polluted":true},"list":[1,{"deep":[null,"x"]}],"n":null}}') as {
      data: Record<string, unknown>;
    };
    const copy = copyJson(parsed) as typeof parsed;
    expect(copy).toEqual(parsed);
    expect(copy.data).not.toBe(parsed.data);
    expect(copy.data['list']).not.toBe(parsed.data['list']);
    expect(Object.getPrototypeOf(copy.data)).toBe(Object.prototype);
    expect(Object.hasOwn(copy.data, '__proto__')).toBe(true);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(parsed));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
