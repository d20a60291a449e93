import { decodeCursor, isUuid } from '@supergraph/kit';
import { forbidden, unauthenticated, type Identity } from '@supergraph/platform';

/**
 * The caller's user id, the owner of everything it creates and the only one
 * it may read. `@authenticated` already refused anonymous callers; a
 * non-user identity (a service) owns nothing here.
 */
export function requireOwner(identity: Identity): string {
  if (!identity.userId) throw unauthenticated();
  if (!isUuid(identity.userId)) throw forbidden('Only user accounts have droids and conversations');
  return identity.userId.toLowerCase();
}

/** Keyset cursor over a bigint ordering column (`position`, `activity`). */
interface PositionCursor {
  p: string;
}

function isPositionCursor(value: unknown): value is PositionCursor {
  return (
    typeof value === 'object' &&
    value !== null &&
    'p' in value &&
    typeof value.p === 'string' &&
    /^[1-9]\d{0,18}$/.test(value.p)
  );
}

export function decodePositionCursor(cursor: string | null | undefined, field: string): string | null {
  if (cursor === null || cursor === undefined) return null;
  return decodeCursor(cursor, isPositionCursor, field).p;
}

export { encodeCursor } from '@supergraph/kit';
