import { GraphQLError, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { formatGatewayError } from './format-error.ts';
import { credentialSubgraphOf } from './supergraph-graphs.ts';

/** The parts of a composed supergraph `credentialSubgraphOf` reads, as `composeServices` writes them. */
function supergraph(query: string, graphs = ['ACCOUNTS_SVC @join__graph(name: "accounts-svc", url: "http://a")']) {
  return parse(/* GraphQL */ `
    enum join__Graph {
      ${graphs.join('\n')}
    }
    type Cred {
      userId: ID!
    }
    ${query}
  `);
}

describe('credentialSubgraphOf', () => {
  it('names the owner of Query.resolveCredential by its join__graph name, not its enum value', () => {
    const document = supergraph(
      /* GraphQL */ `
        type Query @join__type(graph: ACCOUNTS_SVC) @join__type(graph: REVIEWS) {
          resolveCredential(apiKey: String): Cred @inaccessible @join__field(graph: ACCOUNTS_SVC)
          top: String @join__field(graph: REVIEWS)
        }
      `,
      [
        'ACCOUNTS_SVC @join__graph(name: "accounts-svc", url: "http://a")',
        'REVIEWS @join__graph(name: "reviews", url: "http://b")',
      ],
    );
    expect(credentialSubgraphOf(document)).toBe('accounts-svc');
  });

  it('finds the owner when Query lives in one subgraph only (composition then writes no @join__field)', () => {
    const document = supergraph(/* GraphQL */ `
      type Query @join__type(graph: ACCOUNTS_SVC) {
        resolveCredential(apiKey: String): Cred @inaccessible
        me: String
      }
    `);
    expect(credentialSubgraphOf(document)).toBe('accounts-svc');
  });

  it('is undefined when no subgraph resolves credentials', () => {
    const document = supergraph(
      /* GraphQL */ `
        type Query @join__type(graph: ACCOUNTS_SVC) @join__type(graph: REVIEWS) {
          me: String @join__field(graph: ACCOUNTS_SVC)
          top: String @join__field(graph: REVIEWS)
        }
      `,
      [
        'ACCOUNTS_SVC @join__graph(name: "accounts-svc", url: "http://a")',
        'REVIEWS @join__graph(name: "reviews", url: "http://b")',
      ],
    );
    expect(credentialSubgraphOf(document)).toBeUndefined();
    expect(credentialSubgraphOf(parse('type Query { hello: String }'))).toBeUndefined();
  });
});

describe('formatGatewayError', () => {
  it('drops extensions that describe internals, valueCompletion included, and keeps public ones', () => {
    const formatted = {
      message: 'No such thing',
      path: ['thing'],
      extensions: {
        code: 'NOT_FOUND',
        id: 't-1',
        valueCompletion: [{ message: 'Cannot return null for non-nullable field Ledger.balance.' }],
        serviceName: 'ledger',
        response: { status: 200, url: 'http://10.0.0.7/graphql' },
        http: { status: 200 },
        exception: { stacktrace: ['at x'] },
        stacktrace: ['at y'],
      },
    };
    const error = new GraphQLError('No such thing', { extensions: formatted.extensions });
    expect(formatGatewayError(formatted, error)).toEqual({
      message: 'No such thing',
      path: ['thing'],
      extensions: { code: 'NOT_FOUND', id: 't-1' },
    });
  });
});
