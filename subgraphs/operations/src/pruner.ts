import type { Kysely } from 'kysely';
import { pruneAuditEvents } from './audit.repository.ts';
import type { OperationsDb } from './operations.table.ts';
import { pruneUsageRecords } from './usage.repository.ts';

const DAY_MS = 86_400_000;

export interface RetentionSettings {
  usageDays: number;
  auditDays: number;
}

export interface PruneReport {
  usage: number;
  audit: number;
}

/**
 * Deletes usage records and audit events past their retention, in batches
 * (short transactions: the consumers keep inserting meanwhile).
 */
export async function pruneExpired(
  db: Kysely<OperationsDb>,
  retention: RetentionSettings,
  options: { now?: Date; batch?: number } = {},
): Promise<PruneReport> {
  const now = options.now ?? new Date();
  const batch = options.batch ?? 5_000;
  const drain = async (prune: (before: Date) => Promise<number>, days: number) => {
    const before = new Date(now.getTime() - days * DAY_MS);
    let total = 0;
    for (;;) {
      const deleted = await prune(before);
      total += deleted;
      if (deleted < batch) return total;
    }
  };
  return {
    usage: await drain((before) => pruneUsageRecords(db, before, batch), retention.usageDays),
    audit: await drain((before) => pruneAuditEvents(db, before, batch), retention.auditDays),
  };
}

/** Prunes at start and every `intervalMs` (default hourly); a failed round is logged and retried next time. */
export class Pruner {
  readonly #db: Kysely<OperationsDb>;
  readonly #retention: RetentionSettings;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(db: Kysely<OperationsDb>, retention: RetentionSettings, intervalMs = 3_600_000) {
    this.#db = db;
    this.#retention = retention;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#timer) return;
    void this.#round();
    this.#timer = setInterval(() => void this.#round(), this.#intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #round(): Promise<void> {
    this.#running ??= pruneExpired(this.#db, this.#retention)
      .then(
        (report) => {
          if (report.usage + report.audit > 0)
            console.log(`[operations] pruned ${report.usage} usage record(s), ${report.audit} audit event(s)`);
        },
        (error: unknown) =>
          console.error(`[operations] pruning failed: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => (this.#running = undefined));
    return this.#running;
  }
}
