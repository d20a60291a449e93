import { createServer } from 'node:net';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { importInternalVerifyKey } from '@supergraph/platform';
import { generateInternalKeyPair } from '@supergraph/platform';
import { startSubgraph } from './subgraph.ts';

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Query { hello: String }
`);

describe('startSubgraph', () => {
  it('releases what it was handed (close) when it cannot start, e.g. the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    let closed = 0;
    try {
      await expect(
        startSubgraph(
          {
            name: 'probe',
            typeDefs,
            resolvers: { Query: { hello: () => 'hi' } },
            internalTokenKey: await importInternalVerifyKey(generateInternalKeyPair().publicKeyPem),
            createContext: (base) => base,
            ready: async () => {},
            close: async () => void closed++,
          },
          port,
        ),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(closed).toBe(1);
    } finally {
      blocker.close();
    }
  });

  it('answers 401 before GraphQL runs when the internal token is missing, and stops cleanly', async () => {
    let closed = 0;
    const running = await startSubgraph(
      {
        name: 'probe',
        typeDefs,
        resolvers: { Query: { hello: () => 'hi' } },
        internalTokenKey: await importInternalVerifyKey(generateInternalKeyPair().publicKeyPem),
        createContext: (base) => base,
        ready: async () => {},
        close: async () => void closed++,
      },
      0,
    );
    const response = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
    expect(response.status).toBe(401);
    expect(
      ((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code,
    ).toBe('UNAUTHENTICATED');
    await running.stop();
    await running.stop();
    expect(closed).toBe(1);
  });
});
