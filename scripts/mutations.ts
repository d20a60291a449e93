/** One guarded behaviour: replacing `find` (which must occur exactly once in `file`) must make a test in `tests` fail. */
export interface Mutation {
  id: string;
  title: string;
  /** Source file, relative to the repository root. */
  file: string;
  find: string;
  replace: string;
  /** The vitest files expected to fail under the mutation. */
  tests: string[];
}

const AUTHENTICATE = 'gateway/src/authenticate.ts';
const GATEWAY_SERVER = 'gateway/src/server.ts';
const DATA_SOURCE = 'gateway/src/subgraph-data-source.ts';
const ACCESS_TOKEN_TEST = 'gateway/src/access-token.test.ts';
const CREDENTIAL_RESOLVER_TEST = 'gateway/src/credential-resolver.test.ts';
const GATEWAY_SERVER_TEST = 'gateway/src/server.test.ts';
const EDGE_E2E = 'test/e2e/gateway-edge.e2e.ts';
const AUTH_EDGE_E2E = 'test/e2e/auth-at-the-edge.e2e.ts';
const FOREIGN_E2E = 'test/e2e/foreign-supergraph.e2e.ts';

/** The mutations `npm run test:mutations` applies, one at a time (docs/testing.md). */
export const MUTATIONS: Mutation[] = [
  {
    id: 'M1',
    title: "JWTs: any algorithm (drop algorithms: ['EdDSA'])",
    file: AUTHENTICATE,
    find: "        algorithms: ['EdDSA'],\n",
    replace: '',
    tests: [ACCESS_TOKEN_TEST],
  },
  {
    id: 'M2',
    title: 'no client IP forwarded to subgraphs',
    file: GATEWAY_SERVER,
    find: '      clientIp: clientAddress(req, trustedProxyHops),\n',
    replace: '',
    tests: [EDGE_E2E],
  },
  {
    id: 'M3',
    title: 'X-Forwarded-For read from the left (the client-written end)',
    file: 'gateway/src/client-address.ts',
    find: 'hops[Math.max(0, hops.length - 1 - trustedProxyHops)]',
    replace: 'hops[Math.min(hops.length - 1, trustedProxyHops - 1)]',
    tests: [EDGE_E2E, 'gateway/src/client-address.test.ts'],
  },
  {
    id: 'M4',
    title: 'no negative credential cache',
    file: AUTHENTICATE,
    find: 'cache.set(key, { identity, lookedUpAt }, { ttl: identity ? ttl : negativeTtl });',
    replace: 'if (identity) cache.set(key, { identity, lookedUpAt }, { ttl });',
    tests: [CREDENTIAL_RESOLVER_TEST, AUTH_EDGE_E2E],
  },
  {
    id: 'M5',
    title: 'no shared in-flight credential lookup',
    file: AUTHENTICATE,
    find: '        let pending = inFlight.get(key);\n',
    replace: '        let pending: Promise<Identity | null> | undefined;\n',
    tests: [CREDENTIAL_RESOLVER_TEST],
  },
  {
    id: 'M6',
    title: 'credential endpoint unreachable → anonymous (null)',
    file: AUTHENTICATE,
    find:
      '      log.error(`credential lookup failed: ${error instanceof Error ? error.message : String(error)}`);\n' +
      "      throw new HttpError(503, 'SERVICE_UNAVAILABLE', 'Authentication service unavailable', { 'retry-after': '1' });",
    replace:
      '      log.error(`credential lookup failed: ${error instanceof Error ? error.message : String(error)}`);\n' +
      '      return null;',
    tests: [CREDENTIAL_RESOLVER_TEST, FOREIGN_E2E],
  },
  {
    id: 'M7',
    title: 'JWKS refetch cooldown 0',
    file: AUTHENTICATE,
    find: 'cooldownDuration: 30_000',
    replace: 'cooldownDuration: 0',
    tests: [ACCESS_TOKEN_TEST],
  },
  {
    id: 'M8',
    title: 'JWKS cache max age 0',
    file: AUTHENTICATE,
    find: 'cacheMaxAge: 10 * 60_000',
    replace: 'cacheMaxAge: 0',
    tests: [ACCESS_TOKEN_TEST],
  },
  {
    id: 'M9',
    title: 'no positive credential cache',
    file: AUTHENTICATE,
    find: 'cache.set(key, { identity, lookedUpAt }, { ttl: identity ? ttl : negativeTtl });',
    replace: 'if (!identity) cache.set(key, { identity, lookedUpAt }, { ttl: negativeTtl });',
    tests: [CREDENTIAL_RESOLVER_TEST, AUTH_EDGE_E2E],
  },
  {
    id: 'M10',
    title: 'no valueCompletion plugin',
    file: GATEWAY_SERVER,
    find: '      valueCompletionPlugin(),\n',
    replace: '',
    tests: [FOREIGN_E2E],
  },
  {
    id: 'M11',
    title: 'no one-graph fallback in credentialSubgraphOf',
    file: 'gateway/src/supergraph-graphs.ts',
    find: 'fieldGraphs[0] ?? (typeGraphs.length === 1 ? typeGraphs[0] : undefined)',
    replace: 'fieldGraphs[0] ?? (typeGraphs.length === 0 ? typeGraphs[0] : undefined)',
    tests: [GATEWAY_SERVER_TEST, FOREIGN_E2E],
  },
  {
    id: 'M12',
    title: 'valueCompletion kept in error extensions',
    file: 'gateway/src/format-error.ts',
    find: "'http', 'valueCompletion']",
    replace: "'http']",
    tests: [GATEWAY_SERVER_TEST],
  },
  {
    id: 'M13',
    // One cached token per identity, whatever its audience: the first subgraph's token goes to every subgraph.
    title: 'one internal token for all subgraphs',
    file: 'gateway/src/internal-token-cache.ts',
    find: 'const cacheKey = `${audience}\\n${identityFingerprint(identity)}`;',
    replace: 'const cacheKey = identityFingerprint(identity);',
    tests: [FOREIGN_E2E],
  },
  {
    id: 'M14',
    title: 'no subgraph timeout',
    file: DATA_SOURCE,
    find: 'this.#http = createSubgraphHttpClient(options.url, options.timeoutMs);',
    replace: 'this.#http = createSubgraphHttpClient(options.url, 3_600_000);',
    tests: [EDGE_E2E],
  },
  {
    id: 'M15',
    title: 'PGlite: connections skip the FIFO lock',
    file: 'db/src/pglite-dialect.ts',
    find: '    const release = await this.#lock.acquire();\n',
    replace: '    const release = () => {};\n',
    tests: ['db/src/database.int.test.ts', 'db/src/pglite-dialect.int.test.ts'],
  },
  {
    id: 'M16',
    title: 'subgraph: no internal token → anonymous instead of 401',
    file: 'subgraphs/kit/src/subgraph.ts',
    find: "  if (!token) throw new HttpError(401, 'UNAUTHENTICATED', 'This service only accepts requests from the gateway');\n",
    replace:
      "  if (!token) return { userId: null, roles: [], scopes: [], tier: 'free' as const, via: 'anonymous' as const };\n",
    tests: ['subgraphs/kit/src/subgraph.test.ts', 'subgraphs/auth/src/register-login.int.test.ts'],
  },
  {
    id: 'M17',
    title: 'internal tokens: no audience check',
    file: 'platform/src/internal-token.ts',
    find: "    audience,\n    typ: 'internal+jwt',\n",
    replace: "    typ: 'internal+jwt',\n",
    tests: ['platform/src/internal-token.test.ts'],
  },
  {
    id: 'M18',
    title: 'rate limit admits max + 1',
    file: 'platform/src/rate-counter.ts',
    find: 'if count + cost <= max then',
    replace: 'if count + cost <= max + 1 then',
    tests: ['subgraphs/kit/src/rate-limit.int.test.ts'],
  },
  {
    id: 'M19',
    title: 'production does not require REDIS_URL',
    file: 'subgraphs/kit/src/service.ts',
    find: "for (const name of ['DATABASE_URL', 'REDIS_URL', 'INTERNAL_TOKEN_PUBLIC_KEY'])",
    replace: "for (const name of ['DATABASE_URL', 'INTERNAL_TOKEN_PUBLIC_KEY'])",
    tests: ['test/service-runner.int.test.ts'],
  },
  {
    id: 'M20',
    title: 'refresh tokens: no reuse detection',
    file: 'subgraphs/auth/src/sessions.service.ts',
    find: '    if (known) await revokeFamily(trx, known.family_id, known.session_id);\n',
    replace: '',
    tests: ['subgraphs/auth/src/sessions.int.test.ts'],
  },
  {
    id: 'M21',
    title: 'gateway ignores revocations of access tokens',
    file: AUTHENTICATE,
    find: '    if (options.revocations && isRevoked(payload, options.revocations))\n',
    replace: '    if (options.revocations && isRevoked(payload, options.revocations) && false)\n',
    tests: ['test/e2e/revocation.e2e.ts'],
  },
  {
    id: 'M22',
    title: 'no maximum access-token age',
    file: AUTHENTICATE,
    find: '    if ((payload.exp as number) - (payload.iat as number) > maxAgeSeconds)\n',
    replace: '    if ((payload.exp as number) - (payload.iat as number) > Number.POSITIVE_INFINITY)\n',
    tests: ['test/e2e/revocation.e2e.ts'],
  },
  {
    id: 'M23',
    title: 'operation depth not limited',
    file: 'gateway/src/operation-limits.ts',
    find: "      if (measured.depth > limits.maxDepth) throw breach('depth', measured.depth);\n",
    replace: '',
    tests: ['gateway/src/operation-limits.test.ts', 'test/e2e/operation-limits.e2e.ts'],
  },
  {
    id: 'M24',
    title: 'safelist lets free-form operations through',
    file: 'gateway/src/persisted-documents.ts',
    find: "    return operation ? { kind: 'manifest', operation } : notInList(mode);\n",
    replace: "    return operation ? { kind: 'manifest', operation } : { kind: 'pass' };\n",
    tests: ['gateway/src/persisted-documents.test.ts', 'test/e2e/persisted-queries.e2e.ts'],
  },
  {
    id: 'M25',
    title: 'NUL bytes reach resolvers',
    file: 'subgraphs/kit/src/subgraph.ts',
    find: '    rejectNulArguments(\n      buildSubgraphSchema([\n        { typeDefs: options.typeDefs, resolvers: options.resolvers as GraphQLResolverMap<TContext> },\n      ]),\n    ),\n',
    replace:
      '    buildSubgraphSchema([\n      { typeDefs: options.typeDefs, resolvers: options.resolvers as GraphQLResolverMap<TContext> },\n    ]),\n',
    tests: ['subgraphs/auth/src/nul-input.int.test.ts'],
  },
  {
    id: 'M26',
    title: 'subscriptions skip the gateway access check (@authenticated / @requiresScopes)',
    file: 'gateway/src/subscriptions/create-core.ts',
    find: '      const refused = await checkOperation(entry, session.identity);\n',
    replace: '      const refused = undefined;\n',
    tests: ['test/e2e/subscriptions-ws.e2e.ts'],
  },
  {
    id: 'M27',
    title: "a subgraph's WebSocket accepts a connection without an internal token",
    file: 'subgraphs/kit/src/subscriptions.ts',
    find: "        if (typeof token !== 'string' || token === '') return false;\n",
    replace: "        if (typeof token !== 'string' || token === '') return true;\n",
    tests: ['subgraphs/kit/src/subscriptions.test.ts'],
  },
  {
    id: 'M28',
    title: "replyStream follows another user's message",
    file: 'subgraphs/conversation/src/resolvers/Subscription.ts',
    find: '      const row = ownedBy(await findMessage(ctx.db, id), requireOwner(ctx.identity));\n',
    replace: '      const row = await findMessage(ctx.db, id);\n',
    tests: ['subgraphs/conversation/src/streaming.int.test.ts', 'test/e2e/chat.e2e.ts'],
  },
  {
    id: 'M29',
    title: 'provider keys encrypted without their owner as associated data',
    file: 'subgraphs/auth/src/provider-key-cipher.ts',
    find: '  cipher.setAAD(associatedData(owner));\n',
    replace: '',
    tests: ['subgraphs/auth/src/provider-key-cipher.test.ts'],
  },
  {
    id: 'M30',
    title: 'open subscriptions outlive a revocation',
    file: 'gateway/src/subscriptions/revocation-watch.ts',
    find: '      if (isRevoked) stream.end(',
    replace: '      if (isRevoked && Date.now() < 0) stream.end(',
    tests: ['test/e2e/chat.e2e.ts'],
  },
  {
    id: 'M31',
    title: 'maintenance mode lets mutations through',
    file: 'gateway/src/maintenance.ts',
    find: '          if (!maintenance.enabled || isExempt(operation, exempt)) return;\n',
    replace: '          return;\n',
    tests: ['test/e2e/maintenance.e2e.ts'],
  },
  {
    id: 'M32',
    title: 'audit details keep credential-shaped values',
    file: 'platform/src/audit.ts',
    find: '          details: redactAuditDetails(input.details),\n',
    replace: '          details: input.details,\n',
    tests: ['platform/src/audit.int.test.ts', 'subgraphs/auth/src/audit.int.test.ts'],
  },
  {
    id: 'M33',
    title: 'a shared subgraph answer handed to every caller uncopied',
    file: DATA_SOURCE,
    find: 'body: left === 0 ? parsed.body : copyJson(parsed.body)',
    replace: 'body: parsed.body',
    tests: ['gateway/src/subgraph-data-source.test.ts'],
  },
  {
    id: 'M34',
    title: "executor output as object literals even for Object.prototype's names",
    file: 'gateway/src/executor/shape-compile.ts',
    find: '  return !(name in Object.prototype);',
    replace: '  return name.length >= 0;',
    tests: ['gateway/src/executor/executor.test.ts'],
  },
  {
    id: 'M35',
    title: 'entity fetch results not merged into their entities',
    file: 'gateway/src/executor/plan.ts',
    find: '        deepMerge(existingEntity, receivedEntity);\n',
    replace: '',
    tests: ['gateway/src/executor/executor.test.ts'],
  },
];
