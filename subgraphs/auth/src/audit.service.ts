import type { AuditEvent, AuditEventType } from '@supergraph/platform';
import type { AuthContext } from './context.ts';

/**
 * Records one audit event for the request in `ctx`: the actor is the caller
 * unless given (a login or registration acts as the user it proves), the ip
 * the one the gateway saw. Called after the change committed; fire-and-forget
 * (`createAuditLog`), so an unreachable Redis never fails the request.
 * `details` never carries a password, token or key: the log drops such
 * fields anyway, but nothing here passes one.
 *
 * @example
 * recordAudit(ctx, 'auth.password_changed', { subjectId: userId });
 */
export function recordAudit(
  ctx: Pick<AuthContext, 'auth' | 'identity'>,
  type: AuditEventType,
  event: {
    subjectId: string | null;
    actorId?: string | null;
    outcome?: AuditEvent['outcome'];
    details?: AuditEvent['details'];
  },
): void {
  ctx.auth.audit.record({
    type,
    actorId: event.actorId === undefined ? (ctx.identity.userId?.toLowerCase() ?? null) : event.actorId,
    subjectId: event.subjectId,
    ip: ctx.identity.clientIp ?? null,
    outcome: event.outcome ?? 'success',
    details: event.details ?? {},
  });
}
