import { createDatabase, type DatabaseTarget, type TestDatabase } from '@supergraph/db';
import { type RunningSubgraph } from '@supergraph/kit';
import { type Identity, type Redis, type Role, type Tier } from '@supergraph/platform';
import {
  ANONYMOUS,
  GATEWAY_IDENTITY,
  identityFor as sharedIdentityFor,
  startTestServices,
  subgraphClient,
  type GraphQLErrorShape,
  type GraphQLResponse,
  type SubgraphClient,
  type TestServices,
} from '@supergraph/testing';
import { createRemoteJWKSet, jwtVerify, type CryptoKey, type KeyObject } from 'jose';
import type { Kysely } from 'kysely';
import type { AuthDb } from '../src/auth.table.ts';
import {
  databaseSpec,
  defaultAuthConfig,
  JWKS_PATH,
  startAuthSubgraph,
  type AuthConfig,
  type AuthRateLimits,
} from '../src/server.ts';

export type { GraphQLErrorShape };
export type GraphQLResult<T> = GraphQLResponse<T>;

export { ANONYMOUS, GATEWAY_IDENTITY };

export const STRONG_PASSWORD = 'Correct-Horse-42-battery';

/**
 * Limits for suites that are not about rate limiting: they register and log in
 * many users from one (absent) IP. The limiter still counts every call in Redis.
 */
export const ROOMY_RATE_LIMITS: AuthRateLimits = {
  overrides: {
    'Mutation.register': { max: 10_000 },
    'Mutation.login': { max: 10_000 },
    'Mutation.refresh': { max: 10_000 },
    'Mutation.createApiKey': { max: 10_000 },
  },
};

export interface HarnessOptions {
  /** Default {@link ROOMY_RATE_LIMITS}; the harness adds its own key prefix unless given one. */
  rateLimits?: AuthRateLimits;
}

/**
 * One auth subgraph on a fresh database (real PostgreSQL when DATABASE_URL is
 * set, logged in as `supergraph_auth` like service mode; PGlite otherwise),
 * called over HTTP with gateway-signed internal tokens.
 */
export class AuthHarness {
  readonly services: TestServices;
  readonly database: TestDatabase;
  /** Where the subgraph runs: as `supergraph_auth` on PostgreSQL, the PGlite otherwise. */
  readonly target: DatabaseTarget;
  /** Admin handle on the same database for assertions. */
  readonly db: Kysely<AuthDb>;
  readonly internalSigningKey: CryptoKey | KeyObject;
  readonly internalVerifyKey: CryptoKey | KeyObject;
  /** Real Redis when REDIS_URL is set, the in-process stand-in otherwise. */
  readonly redis: Redis;
  /** Unique per harness: tests share one Redis; every key under it is deleted by {@link stop}. */
  readonly rateLimitPrefix: string;
  readonly rateLimits: AuthRateLimits;
  readonly #closeDb: () => Promise<void>;
  readonly #client: SubgraphClient;
  server!: RunningSubgraph;
  config!: AuthConfig;
  #counter = 0;

  private constructor(services: TestServices, rateLimits: AuthRateLimits) {
    this.services = services;
    this.database = services.database;
    this.target = services.targetFor(databaseSpec);
    this.redis = services.redis;
    this.rateLimitPrefix = services.rateLimitPrefix('auth');
    this.rateLimits = { prefix: this.rateLimitPrefix, ...rateLimits };
    this.internalSigningKey = services.keys.signingKey;
    this.internalVerifyKey = services.keys.verifyKey;
    const admin = createDatabase<AuthDb>(services.database.target, { schema: 'auth', poolMax: 2 });
    this.db = admin.db;
    this.#closeDb = admin.close;
    this.#client = subgraphClient({
      url: () => this.server.url,
      audience: 'auth',
      signingKey: this.internalSigningKey,
    });
  }

  static async start(overrides: Partial<AuthConfig> = {}, options: HarnessOptions = {}): Promise<AuthHarness> {
    const services = await startTestServices([databaseSpec]);
    const harness = new AuthHarness(services, options.rateLimits ?? ROOMY_RATE_LIMITS);
    try {
      await harness.restart(overrides);
    } catch (error) {
      await harness.#closeDb();
      await services.close();
      throw error;
    }
    return harness;
  }

  /** (Re)starts the server on the same database, e.g. with rotated signing keys. */
  async restart(overrides: Partial<AuthConfig> = {}): Promise<void> {
    if (this.server) await this.server.stop();
    this.config = await defaultAuthConfig(overrides);
    this.server = await this.startServer();
  }

  /** Another server on the same database, keys, Redis and limits (a second instance behind the load balancer). */
  async startServer(): Promise<RunningSubgraph> {
    return startAuthSubgraph(
      {
        target: this.target,
        internalTokenKey: this.internalVerifyKey,
        config: this.config,
        redis: this.redis,
        redisPrefix: this.services.keyPrefix,
        rateLimits: this.rateLimits,
      },
      0,
    );
  }

  get baseUrl(): string {
    return this.server.url.replace(/\/graphql$/, '');
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    await this.#closeDb();
    await this.services.close();
  }

  async internalToken(identity: Identity, audience = 'auth'): Promise<string> {
    return this.#client.token(identity, audience);
  }

  /** POST /graphql as the gateway would; `identity: null` sends no internal token. */
  async gql<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
    identity: Identity | null = ANONYMOUS,
    options: { token?: string; url?: string } = {},
  ): Promise<GraphQLResult<T>> {
    return this.#client.call<T>(query, variables, identity, options);
  }

  /** Like {@link gql} but fails the test on any error. */
  async ok<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
    identity: Identity | null = ANONYMOUS,
  ): Promise<T> {
    const result = await this.gql<T>(query, variables, identity);
    if (result.errors?.length || !result.data) {
      throw new Error(`GraphQL failed (${result.status}): ${JSON.stringify(result.errors)}`);
    }
    return result.data;
  }

  uniqueName(prefix = 'user'): string {
    this.#counter += 1;
    return `${prefix}_${this.#counter}_${Math.random().toString(36).slice(2, 7)}`;
  }

  async register(username = this.uniqueName(), password = STRONG_PASSWORD): Promise<TestUser> {
    const data = await this.ok<{ register: { id: string; username: string; role: string; tier: string } }>(
      `mutation ($input: RegisterInput!) { register(input: $input) { id username role tier } }`,
      { input: { username, email: `${username.toLowerCase()}@example.com`, password } },
    );
    return { ...data.register, email: `${username.toLowerCase()}@example.com`, password };
  }

  async login(usernameOrEmail: string, password = STRONG_PASSWORD): Promise<LoginPayload> {
    const data = await this.ok<{ login: LoginPayload }>(
      `mutation ($input: LoginInput!) { login(input: $input) { ${PAYLOAD_FIELDS} } }`,
      { input: { usernameOrEmail, password } },
    );
    return data.login;
  }

  /** Registers and logs in; returns the user, the tokens and the identity the gateway would derive from the access token. */
  async signUp(username = this.uniqueName()): Promise<SignedUpUser> {
    const user = await this.register(username);
    const payload = await this.login(username);
    return { user, payload, identity: await this.identityFromAccessToken(payload.accessToken) };
  }

  /** What the gateway does with `Authorization: Bearer`: verify against the published JWKS, then map claims. */
  async identityFromAccessToken(accessToken: string): Promise<Identity> {
    const jwks = createRemoteJWKSet(new URL(`${this.baseUrl}${JWKS_PATH}`), { cacheMaxAge: 0, cooldownDuration: 0 });
    const { payload } = await jwtVerify(accessToken, jwks, {
      algorithms: ['EdDSA'],
      issuer: this.config.issuer,
      audience: this.config.audience,
      typ: 'at+jwt',
    });
    return {
      userId: payload.sub ?? null,
      roles: payload['roles'] as Role[],
      scopes: String(payload['scope']).split(' '),
      tier: payload['tier'] as Tier,
      via: 'jwt',
      sessionId: payload['sid'] as string,
    };
  }

  /** Promotes a user straight in the database and returns an admin identity for them. */
  async makeAdmin(userId: string): Promise<Identity> {
    await this.db.updateTable('users').set({ role: 'admin' }).where('id', '=', userId).execute();
    return identityFor(userId, 'admin');
  }
}

/** An identity as the gateway would build it for a JWT of this user (roles exactly `[role]`). */
export function identityFor(userId: string, role: Role = 'user', extra: Partial<Identity> = {}): Identity {
  return sharedIdentityFor(userId, [role], extra);
}

export const PAYLOAD_FIELDS =
  'accessToken refreshToken sessionToken expiresAt sessionExpiresAt user { id username email role tier }';

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  role: string;
  tier: string;
}

export interface LoginPayload {
  accessToken: string;
  refreshToken: string;
  sessionToken: string;
  expiresAt: string;
  sessionExpiresAt: string;
  user: { id: string; username: string; email: string | null; role: string; tier: string };
}

export interface SignedUpUser {
  user: TestUser;
  payload: LoginPayload;
  identity: Identity;
}

/** The first error's code and field, for terse assertions. */
export function firstError(result: GraphQLResult<unknown>): {
  code: string | undefined;
  field: string | undefined;
  message: string | undefined;
} {
  const error = result.errors?.[0];
  return { code: error?.extensions?.code, field: error?.extensions?.field, message: error?.message };
}
