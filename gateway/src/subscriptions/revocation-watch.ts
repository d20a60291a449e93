import type { Identity, RevocationList } from '@supergraph/platform';
import type { EventStream } from './event-stream.ts';
import { refusal } from './results.ts';

/**
 * Ends open streams whose user, session or API keys were revoked after they
 * opened, within `intervalMs`, as a new request with the same credential
 * would be refused. One timer per gateway, running only while streams are
 * watched.
 */
export function createRevocationWatch(revocations: RevocationList | undefined, intervalMs = 1_000) {
  const watched = new Map<EventStream, { openedAt: number; identity: Identity }>();
  let timer: NodeJS.Timeout | undefined;
  const sweep = () => {
    if (!revocations) return;
    for (const [stream, { openedAt, identity }] of watched) {
      if (identity.userId === null) continue;
      const isRevoked =
        (revocations.revokedBefore('user', identity.userId) ?? 0) > openedAt ||
        (identity.sessionId !== undefined &&
          (revocations.revokedBefore('session', identity.sessionId) ?? 0) > openedAt) ||
        (identity.via === 'api_key' && revocations.learnedAt('api-keys', identity.userId) > openedAt);
      if (isRevoked) stream.end(refusal('UNAUTHENTICATED', 'The credential of this subscription was revoked'));
    }
  };
  return {
    watch(stream: EventStream, identity: Identity): void {
      if (!revocations) return;
      watched.set(stream, { openedAt: Date.now(), identity });
      timer ??= setInterval(sweep, intervalMs);
      timer.unref();
    },
    forget(stream: EventStream): void {
      watched.delete(stream);
      if (watched.size > 0) return;
      clearInterval(timer);
      timer = undefined;
    },
  };
}
