import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import type { JWK } from 'jose';
import type { TestDatabase } from '@supergraph/db';
import { type RunningSubgraph } from '@supergraph/kit';
import {
  createRedisRevocationPublisher,
  generateSigningJwk,
  subscribeToRevocations,
  type Redis,
} from '@supergraph/platform';
import { startTestServices } from '@supergraph/testing';
import { startGateway, type GatewayOptions, type RunningGateway } from '@supergraph/gateway';
import {
  databaseSpec as authDatabaseSpec,
  defaultAuthConfig,
  startAuthSubgraph,
  type AuthRateLimits,
} from '@supergraph/auth';
import { composeSupergraph } from '../../schema/compose.ts';
import { PROBE_TYPE_DEFS, startProbeSubgraph, type Probe } from './probe-subgraph.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const ISSUER = 'supergraph-auth';
export const AUDIENCE = 'supergraph';
export const ALLOWED_ORIGIN = 'http://app.allowed.test';

export interface GraphQLResult {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
  };
}

export interface Stack {
  db: TestDatabase;
  /** The Redis every subgraph of the stack counts in: REDIS_URL's server under CI, never a private stand-in. */
  redis: Redis;
  /** The run's Redis prefix: settings, audit and usage streams of this stack live under it. */
  keyPrefix: string;
  auth: RunningSubgraph;
  probe: Probe | undefined;
  gateway: RunningGateway;
  /** The private signing key auth uses for access tokens (to forge tokens in tests). */
  signingJwk: JWK;
  /** The gateway's internal-token private key. */
  internalPrivateKeyPem: string;
  /** Number of HTTP requests the auth subgraph received so far. */
  authRequests(): number;
  /** Starts one more gateway over the same subgraphs with some options changed (stopped with the stack). */
  startGatewayWith(overrides: Partial<GatewayOptions>): Promise<RunningGateway>;
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResult>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** `all`: `composeSupergraph()` over every subgraph schema in the repo; `probe`: auth + the probe subgraph only. */
  supergraph: 'all' | 'probe';
  gateway?: Partial<GatewayOptions>;
  /** Auth's limits for this stack (e.g. higher `register`/`login` limits for a test that signs up many users). */
  authRateLimits?: Omit<AuthRateLimits, 'prefix'>;
}

/** Composes auth's schema with the probe's into a supergraph (routing URLs are overridden by the gateway). */
export function composeAuthWithProbe(): string {
  const authSdl = readFileSync(path.join(root, 'subgraphs', 'auth', 'src', 'schema.graphql'), 'utf8');
  const result = composeServices([
    { name: 'auth', url: 'http://127.0.0.1:4001/graphql', typeDefs: parse(authSdl) },
    { name: 'probe', url: 'http://127.0.0.1:4099/graphql', typeDefs: parse(PROBE_TYPE_DEFS) },
  ]);
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join('\n'));
  return result.supergraphSdl;
}

/**
 * A fresh database (real PostgreSQL when DATABASE_URL is set, PGlite
 * otherwise), the real auth subgraph connected as its own role, optionally the
 * probe subgraph, and the real gateway in front, all on port 0 over HTTP.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const services = await startTestServices([authDatabaseSpec]);
  const db = services.database;
  const stoppers: Array<() => Promise<void>> = [() => services.close()];
  const stop = async () => {
    for (const stopper of stoppers.reverse())
      await stopper().catch((error: unknown) => console.error('[e2e] stop failed', error));
  };
  try {
    const verifyKey = services.keys.verifyKey;
    const signingJwk = await generateSigningJwk();
    const config = await defaultAuthConfig({ signingKeys: [signingJwk], issuer: ISSUER, audience: AUDIENCE });
    // The shared Redis, not auth's private stand-in: under CI every limiter counts in the real server.
    const auth = await startAuthSubgraph(
      {
        target: services.targetFor(authDatabaseSpec),
        internalTokenKey: verifyKey,
        config,
        redis: services.redis,
        rateLimits: { ...options.authRateLimits, prefix: services.rateLimitPrefix('auth') },
        revocations: createRedisRevocationPublisher(services.redis, { prefix: services.keyPrefix }),
        redisPrefix: services.keyPrefix,
      },
      0,
    );
    stoppers.push(() => auth.stop());
    let authRequestCount = 0;
    auth.http.on('request', () => authRequestCount++);

    const probe = options.supergraph === 'probe' ? await startProbeSubgraph(verifyKey) : undefined;
    if (probe) stoppers.push(() => probe.subgraph.stop());

    const gatewayOptions: GatewayOptions = {
      supergraphSdl: options.supergraph === 'probe' ? composeAuthWithProbe() : composeSupergraph(),
      internalTokenKey: services.keys.signingKey,
      auth: { issuer: ISSUER, audience: AUDIENCE },
      subgraphUrls: { auth: auth.url, ...(probe ? { probe: probe.subgraph.url } : {}) },
      corsOrigins: [ALLOWED_ORIGIN],
      ...options.gateway,
    };
    const startGatewayWith = async (overrides: Partial<GatewayOptions>) => {
      // Each gateway listens on its own connection, as separate processes would.
      const revocations = await subscribeToRevocations(services.redis, { prefix: services.keyPrefix });
      stoppers.push(() => revocations.close());
      const started = await startGateway({ revocations, ...gatewayOptions, ...overrides }, 0);
      stoppers.push(() => started.stop());
      return started;
    };
    const gateway = await startGatewayWith({});

    return {
      db,
      redis: services.redis,
      keyPrefix: services.keyPrefix,
      auth,
      probe,
      gateway,
      signingJwk,
      internalPrivateKeyPem: services.keys.privateKeyPem,
      authRequests: () => authRequestCount,
      startGatewayWith,
      gql: (query, variables, headers) =>
        postGraphQL(gateway.url, { query, ...(variables ? { variables } : {}) }, headers),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function postGraphQL(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<GraphQLResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: GraphQLResult['body'];
  try {
    parsed = JSON.parse(text) as GraphQLResult['body'];
  } catch {
    throw new Error(`non-JSON answer ${response.status}: ${text.slice(0, 200)}`);
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** The first error's code, or undefined. */
export function firstCode(result: GraphQLResult): unknown {
  return result.body.errors?.[0]?.extensions?.['code'];
}

let counter = 0;
/** A unique, valid registration input. */
export function newUser(prefix = 'user') {
  counter += 1;
  const suffix = `${Date.now().toString(36)}${counter}`;
  return {
    username: `${prefix}_${suffix}`,
    email: `${prefix}_${suffix}@example.test`,
    password: 'Correct-Horse-9-Battery',
  };
}

export const REGISTER = /* GraphQL */ `
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      id
      username
    }
  }
`;
export const LOGIN = /* GraphQL */ `
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      accessToken
      refreshToken
      sessionToken
      expiresAt
      user {
        id
        username
      }
    }
  }
`;

export interface LoggedIn {
  userId: string;
  accessToken: string;
  refreshToken: string;
  sessionToken: string;
}

/** Registers and logs in a fresh user through the gateway. */
export async function registerAndLogin(stack: Stack, prefix = 'user'): Promise<LoggedIn & { username: string }> {
  const input = newUser(prefix);
  const registered = await stack.gql(REGISTER, { input });
  if (registered.body.errors) throw new Error(`register failed: ${JSON.stringify(registered.body.errors)}`);
  const login = await stack.gql(LOGIN, { input: { usernameOrEmail: input.username, password: input.password } });
  if (login.body.errors) throw new Error(`login failed: ${JSON.stringify(login.body.errors)}`);
  const payload = login.body.data?.['login'] as {
    accessToken: string;
    refreshToken: string;
    sessionToken: string;
    user: { id: string };
  };
  return {
    username: input.username,
    userId: payload.user.id,
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    sessionToken: payload.sessionToken,
  };
}
