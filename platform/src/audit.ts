import { randomUUID } from 'node:crypto';
import { DEFAULT_REDIS_PREFIX } from './settings.ts';
import type { Redis } from 'ioredis';
import { createLogger } from './logger.ts';

export type AuditEventType =
  | 'auth.registered'
  | 'auth.login'
  | 'auth.login_failed'
  | 'auth.logout'
  | 'auth.logout_everywhere'
  | 'auth.password_changed'
  | 'auth.api_key_created'
  | 'auth.api_key_revoked'
  | 'auth.provider_key_set'
  | 'auth.provider_key_removed'
  | 'auth.role_changed'
  | 'auth.tier_changed'
  | 'auth.user_deactivated'
  | 'auth.user_reactivated'
  | 'operations.setting_changed'
  | 'admin.action';

/** One security-relevant event: who (`actorId`) did what (`type`) to whose account (`subjectId`), from where. */
export interface AuditEvent {
  /** uuid v4: consumers store rows keyed by it, so reading an entry twice is harmless. */
  id: string;
  /** ISO 8601. */
  at: string;
  type: AuditEventType;
  service: string;
  actorId: string | null;
  subjectId: string | null;
  ip: string | null;
  outcome: 'success' | 'failure';
  details: Record<string, string | number | boolean | null>;
}

export const AUDIT_STREAM = 'audit';
/** The one field of each stream entry: the event as JSON. */
export const AUDIT_FIELD = 'event';
/** Approximate cap of the stream (`MAXLEN ~`): consumers copy events into PostgreSQL long before. */
export const AUDIT_STREAM_MAXLEN = 100_000;

export interface AuditLog {
  /** Queues the event's XADD and returns at once: never throws, never makes the caller wait for Redis. */
  record(event: Omit<AuditEvent, 'id' | 'at' | 'service'> & { at?: string }): void;
  /** Resolves when every XADD recorded so far has been answered (tests, shutdown). */
  flush(): Promise<void>;
  /** Events lost because Redis refused or did not answer. */
  dropped(): number;
}

/** Detail keys that name a credential: dropped whatever their value. */
const SECRET_KEY = /pass(word)?|token|secret|authorization|cookie|^key$|providerkey|apikey$/i;
/** UUIDs are ids, not credentials; removed before the value is checked for long runs. */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const CREDENTIAL_SHAPES: readonly RegExp[] = [
  /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\./, // JWT (header.payload.)
  /\bsk-[A-Za-z0-9_-]{8,}/, // OpenAI-style provider keys
  /\bsg_[A-Za-z0-9_-]{16,}/, // our API keys
  /[A-Za-z0-9+/_-]{32,}={0,2}/, // long base64/base64url/hex runs (session tokens, hashes, raw keys)
];

/** True when a string looks like a credential. */
export function looksLikeCredential(value: string): boolean {
  const withoutIds = value.replace(UUID, '');
  return CREDENTIAL_SHAPES.some((shape) => shape.test(withoutIds));
}

/**
 * The details with credential-named keys dropped and credential-shaped
 * strings replaced by `[redacted]`: the audit log refuses secrets even when a
 * call site passes one by mistake.
 */
export function redactAuditDetails(details: AuditEvent['details']): AuditEvent['details'] {
  const safe: AuditEvent['details'] = {};
  for (const [key, value] of Object.entries(details)) {
    if (SECRET_KEY.test(key)) continue;
    safe[key] = typeof value === 'string' && looksLikeCredential(value) ? '[redacted]' : value;
  }
  return safe;
}

/** An entry's event, or null when the field is missing or not an event (consumers skip it). */
export function parseAuditEntry(fields: readonly string[]): AuditEvent | null {
  const index = fields.indexOf(AUDIT_FIELD);
  if (index < 0 || index % 2 !== 0) return null;
  try {
    const event = JSON.parse(fields[index + 1] ?? '') as Partial<AuditEvent> | null;
    if (!event || typeof event.id !== 'string' || typeof event.type !== 'string' || typeof event.at !== 'string')
      return null;
    return event as AuditEvent;
  } catch {
    return null;
  }
}

/** A failure is logged once when losses start, then at most once a minute with the count. */
const LOG_EVERY_MS = 60_000;

/**
 * The one audit helper of every subgraph: `record` XADDs `<prefix>audit`
 * (`MAXLEN ~ 100000`) with one field `event` = JSON, fire-and-forget. The
 * clients of {@link createRedis} fail a command at once while Redis is down
 * and after `commandTimeout` when it does not answer, so a lost event costs
 * nothing but a counted, logged warning; the request goes on.
 *
 * @example
 * const audit = createAuditLog(redis, { service: 'auth', prefix });
 * audit.record({ type: 'auth.login', actorId: user.id, subjectId: user.id, ip, outcome: 'success', details: {} });
 */
export function createAuditLog(
  redis: Redis,
  options: { service: string; prefix?: string; log?: (message: string) => void },
): AuditLog {
  const stream = `${options.prefix ?? DEFAULT_REDIS_PREFIX}${AUDIT_STREAM}`;
  const log = options.log ?? ((message: string) => createLogger(options.service).warn(`audit: ${message}`));
  const pending = new Set<Promise<unknown>>();
  let dropped = 0;
  let droppedSinceLog = 0;
  let lastLogAt = 0;

  function onFailure(error: unknown): void {
    dropped += 1;
    droppedSinceLog += 1;
    const now = Date.now();
    if (now - lastLogAt < LOG_EVERY_MS) return;
    log(
      `dropped ${droppedSinceLog} audit event(s) (${dropped} in all): ${error instanceof Error ? error.message : String(error)}`,
    );
    lastLogAt = now;
    droppedSinceLog = 0;
  }

  return {
    record(input) {
      try {
        const event: AuditEvent = {
          id: randomUUID(),
          at: input.at ?? new Date().toISOString(),
          type: input.type,
          service: options.service,
          actorId: input.actorId,
          subjectId: input.subjectId,
          ip: input.ip,
          outcome: input.outcome,
          details: redactAuditDetails(input.details),
        };
        const write = redis
          .xadd(stream, 'MAXLEN', '~', String(AUDIT_STREAM_MAXLEN), '*', AUDIT_FIELD, JSON.stringify(event))
          .catch(onFailure)
          .finally(() => pending.delete(write));
        pending.add(write);
      } catch (error) {
        // A client that throws synchronously (closed) is an outage like any other.
        onFailure(error);
      }
    },
    async flush() {
      await Promise.allSettled([...pending]);
    },
    dropped: () => dropped,
  };
}
