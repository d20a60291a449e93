/** How the caller proved who they are at the gateway. */
export type CredentialKind = 'jwt' | 'api_key' | 'session' | 'anonymous' | 'gateway';
export type Role = 'user' | 'admin';
export type Tier = 'free' | 'pro' | 'enterprise';

/**
 * The caller as the gateway established it, carried to every subgraph inside
 * the internal token. `userId` is null for anonymous callers.
 */
export interface Identity {
  userId: string | null;
  roles: readonly Role[];
  scopes: readonly string[];
  tier: Tier;
  via: CredentialKind;
  /** Session id for session tokens and JWTs minted at login (lets logout revoke). */
  sessionId?: string;
  /** The client's IP as the gateway saw it (rate-limit key for anonymous callers). */
  clientIp?: string;
}

export const ANONYMOUS: Identity = Object.freeze({
  userId: null,
  roles: [],
  scopes: [],
  tier: 'free',
  via: 'anonymous',
});

/** Scopes only the gateway grants itself (never a user or an API key). */
export const INTERNAL_SCOPES = ['internal:credentials'] as const;

/**
 * Which scopes each role holds. Every subgraph declares the scopes it guards
 * (its descriptor's `scopes`); `npm run compose` collects them into
 * `schema/scopes.json`, beside the supergraph. Admins hold both lists.
 */
export interface ScopeCatalog {
  user: readonly string[];
  admin: readonly string[];
}

/** The scopes a role set grants under `catalog`. API keys are limited to a subset of these. */
export function scopesForRoles(catalog: ScopeCatalog, roles: readonly Role[]): string[] {
  const scopes = new Set<string>(roles.length > 0 ? catalog.user : []);
  if (roles.includes('admin')) for (const scope of catalog.admin) scopes.add(scope);
  return [...scopes];
}

export function isAdmin(identity: Identity): boolean {
  return identity.roles.includes('admin');
}

/** `@requiresScopes` semantics: any one inner list satisfied in full. */
export function hasScopes(identity: Identity, required: ReadonlyArray<readonly string[]>): boolean {
  return required.some((all) => all.every((scope) => identity.scopes.includes(scope)));
}
