import { z } from 'zod';
import { parseAuditEntry, parseUsageEntry, redactAuditDetails } from '@supergraph/platform';
import type { NewAuditEvent, NewUsageRecord } from './operations.table.ts';

/*
 * Stream entries → rows. Anyone who can write to Redis can write to the
 * streams, and one row the table refuses would stop its consumer on the same
 * batch forever, so each entry is checked against the table's constraints
 * here and skipped when it does not fit.
 */

const isoDate = z.iso.datetime({ offset: true });
const shortText = (max: number) => z.string().min(1).max(max);

const auditEventSchema = z.object({
  id: z.uuid(),
  at: isoDate,
  type: z
    .string()
    .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/)
    .max(100),
  service: shortText(100),
  actorId: shortText(200).nullable(),
  subjectId: shortText(200).nullable(),
  ip: shortText(100).nullable(),
  outcome: z.enum(['success', 'failure']),
  details: z.record(z.string().max(100), z.union([z.string().max(4000), z.number(), z.boolean(), z.null()])),
});

/** An audit entry as a row; null when it is not a well-formed event. */
export function auditRowOf(fields: readonly string[]): NewAuditEvent | null {
  const parsed = auditEventSchema.safeParse(parseAuditEntry(fields));
  if (!parsed.success) return null;
  const event = parsed.data;
  return {
    id: event.id.toLowerCase(),
    // Milliseconds, like the cursors that page through them.
    at: new Date(event.at).toISOString(),
    type: event.type,
    service: event.service,
    actor_id: event.actorId,
    subject_id: event.subjectId,
    ip: event.ip,
    outcome: event.outcome,
    // The producer redacts already; a writer that skipped the helper is redacted here too.
    details: JSON.stringify(redactAuditDetails(event.details)),
  };
}

const usageRecordSchema = z.object({
  id: shortText(100),
  at: isoDate,
  userId: shortText(200).nullable(),
  operationName: shortText(200).nullable(),
  operationType: z.enum(['query', 'mutation', 'subscription', 'unknown']),
  status: z.enum(['ok', 'error']),
  errorCodes: z.array(z.string().max(100)).max(50),
  latencyMs: z.number().min(0).max(86_400_000),
  subgraphs: z.array(z.string().max(100)).max(50),
});

/** A usage entry as a row; null when it is not a well-formed record. */
export function usageRowOf(fields: readonly string[]): NewUsageRecord | null {
  const parsed = usageRecordSchema.safeParse(parseUsageEntry(fields));
  if (!parsed.success) return null;
  const record = parsed.data;
  return {
    id: record.id,
    at: new Date(record.at).toISOString(),
    user_id: record.userId,
    operation_name: record.operationName,
    operation_type: record.operationType,
    status: record.status,
    error_codes: record.errorCodes,
    latency_ms: record.latencyMs,
    subgraphs: record.subgraphs,
  };
}
