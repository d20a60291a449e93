import type { Kysely } from 'kysely';
import type { SubgraphContext } from '@supergraph/kit';
import type { AuditLog, Redis } from '@supergraph/platform';
import type { OperationsDb } from './operations.table.ts';
import type { SystemFacts } from './system.service.ts';

export interface OperationsContext extends SubgraphContext {
  db: Kysely<OperationsDb>;
  redis: Redis;
  /** Prefix of the settings key/channel and the audit and usage streams. */
  redisPrefix: string;
  audit: AuditLog;
  system: SystemFacts;
}
