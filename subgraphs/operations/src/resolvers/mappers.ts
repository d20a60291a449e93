import type { SettingsSnapshot } from '@supergraph/platform';
import type { ServiceHealthReport } from '../health.service.ts';
import type { AuditEventRow } from '../operations.table.ts';

/*
 * One model → GraphQL mapper per type. The `*Model` types are codegen
 * mappers (codegen.json): the generated `Resolvers` expect these shapes.
 */

export type ServiceModel = ServiceHealthReport;

export function toServiceHealth(report: ServiceModel) {
  return { checkedAt: report.checkedAt, httpStatus: report.httpStatus, error: report.error };
}

export function toAuditEvent(row: AuditEventRow) {
  return {
    id: row.id,
    at: new Date(row.at),
    type: row.type,
    service: row.service,
    actorId: row.actor_id,
    subjectId: row.subject_id,
    ip: row.ip,
    outcome: row.outcome === 'success' ? ('SUCCESS' as const) : ('FAILURE' as const),
    details: row.details,
  };
}

export function toSettings(snapshot: SettingsSnapshot) {
  const { maintenance, rateLimitMultipliers, featureFlags } = snapshot.values;
  return {
    maintenance,
    rateLimitMultipliers,
    featureFlags: Object.entries(featureFlags)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, enabled]) => ({ name, enabled })),
    version: snapshot.version,
    updatedAt: snapshot.updatedAt ? new Date(snapshot.updatedAt) : null,
    values: { ...snapshot.values },
  };
}

/** A user as operations knows it: the id (auth owns the rest). */
export interface UserReference {
  id: string;
}
