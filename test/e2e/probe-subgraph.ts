import type { IncomingHttpHeaders } from 'node:http';
import { GraphQLError, GraphQLScalarType, parse } from 'graphql';
import type { CryptoKey, KeyObject } from 'jose';
import { startSubgraph, type RunningSubgraph, type SubgraphContext } from '@supergraph/kit';
import { notFound } from '@supergraph/platform';

/**
 * A small real subgraph the e2e tests compose next to auth: it shows what the
 * gateway forwards (identity, headers), fails on demand (crash, slowness) and
 * extends `User` so one query spans two subgraphs.
 */
export const PROBE_TYPE_DEFS = /* GraphQL */ `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes"])

  type Query {
    probePublic: String!
    probeSecret: String @authenticated
    probeChat: String @requiresScopes(scopes: [["knowledge:write"]])
    probeWhoAmI: ProbeIdentity!
    probeCrash: String
    probeNotFound: String
    probeSlow(ms: Int!): String
    probeEcho(at: ProbeDate!): String
  }

  "An ISO date (YYYY-MM-DD); the gateway cannot check it, the probe does."
  scalar ProbeDate

  type ProbeIdentity {
    userId: ID
    via: String!
    roles: [String!]!
    scopes: [String!]!
    tier: String!
    clientIp: String
  }

  type User @key(fields: "id") {
    id: ID!
    probeNote: String
  }
`;

export interface Probe {
  subgraph: RunningSubgraph;
  /** Headers of every HTTP request the probe received, in order. */
  requests: IncomingHttpHeaders[];
  /** How many `probeSlow` resolvers have run to the end (the gateway may have stopped waiting long before). */
  slowFinished(): number;
}

export async function startProbeSubgraph(internalTokenKey: CryptoKey | KeyObject): Promise<Probe> {
  let slowFinished = 0;
  const subgraph = await startSubgraph<SubgraphContext>(
    {
      name: 'probe',
      typeDefs: parse(PROBE_TYPE_DEFS),
      internalTokenKey,
      createContext: (base) => base,
      ready: async () => {},
      close: async () => {},
      resolvers: {
        ProbeDate: new GraphQLScalarType({
          name: 'ProbeDate',
          parseValue: (value) => {
            if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value))
              throw new GraphQLError('ProbeDate must look like 2026-11-22');
            return value;
          },
          serialize: (value) => value,
        }),
        Query: {
          probePublic: () => 'public',
          probeSecret: () => 'secret',
          probeChat: () => 'chat',
          probeWhoAmI: (_source: unknown, _args: unknown, ctx: SubgraphContext) => ctx.identity,
          probeCrash: () => {
            throw new Error('relation "probe_secret_table" does not exist (postgres://admin:hunter2@db.internal/prod)');
          },
          probeNotFound: () => {
            throw notFound('No such probe', { id: 'p-1' });
          },
          probeEcho: (_source: unknown, args: { at: string }) => args.at,
          probeSlow: async (_source: unknown, args: { ms: number }) => {
            await new Promise((resolve) => setTimeout(resolve, args.ms));
            slowFinished += 1;
            return 'slow';
          },
        },
        User: {
          __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
          probeNote: (user: { id: string }) => `note for ${user.id}`,
        },
      },
    },
    0,
  );
  const requests: IncomingHttpHeaders[] = [];
  subgraph.http.on('request', (req: { headers: IncomingHttpHeaders }) => requests.push(req.headers));
  return { subgraph, requests, slowFinished: () => slowFinished };
}
