import { randomUUID } from 'node:crypto';
import { ANONYMOUS, loadScopeCatalog, scopesForRoles, type Identity, type Role, type Tier } from '@supergraph/platform';

export { ANONYMOUS };

/** The gateway itself, as it calls the credential subgraph (`resolveCredential`). */
export const GATEWAY_IDENTITY: Identity = Object.freeze({
  userId: 'system:gateway',
  roles: [],
  scopes: ['internal:credentials'],
  tier: 'free',
  via: 'gateway',
});

/**
 * An identity as the gateway builds it from a JWT: `roles` exactly as given,
 * scopes from the composed catalog (`schema/scopes.json`), so a test never
 * hand-writes a scope list that drifts from what the subgraphs declare.
 *
 * @example
 * identityFor(user.id, ['admin']) // roles ['admin'], every user and admin scope
 */
export function identityFor(
  userId: string,
  roles: readonly Role[] = ['user'],
  extra: Partial<Identity> = {},
): Identity {
  return {
    userId,
    roles: [...roles],
    scopes: scopesForRoles(loadScopeCatalog(), roles),
    tier: 'free',
    via: 'jwt',
    ...extra,
  };
}

export interface UserIdentityOptions {
  /** Default: a fresh UUID. */
  id?: string;
  /** Default `free`. */
  tier?: Tier;
  /** Adds the `admin` role (and its scopes) to `user`. */
  admin?: boolean;
  clientIp?: string;
}

/** A signed-in user (roles `user`, plus `admin` when asked), with a fresh id unless given one. */
export function userIdentity({
  id = randomUUID(),
  tier = 'free',
  admin = false,
  clientIp,
}: UserIdentityOptions = {}): Identity {
  return identityFor(id, admin ? ['user', 'admin'] : ['user'], { tier, ...(clientIp ? { clientIp } : {}) });
}

/** An administrator on the enterprise tier (so fixtures never meet a free-tier limit). */
export function adminIdentity({ id = randomUUID(), tier = 'enterprise' }: { id?: string; tier?: Tier } = {}): Identity {
  return userIdentity({ id, tier, admin: true });
}

/**
 * An anonymous caller; anonymous calls are rate-limited by client IP, so each
 * gets a random one unless the test needs two calls to share it.
 */
export function anonymousIdentity(clientIp = randomTestIp()): Identity {
  return { ...ANONYMOUS, clientIp };
}

function randomTestIp(): string {
  const octet = () => Math.floor(Math.random() * 250);
  return `10.${octet()}.${octet()}.${octet()}`;
}
