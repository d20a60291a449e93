import { createLogger } from './logger.ts';

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0 (1 when
 * stopping failed). Every entry point drains the same way: HTTP first, then
 * Apollo, then pools and clients — all inside `stop`.
 *
 * @example
 * stopOnSignals('auth', async () => { await running.stop(); redis.disconnect(); });
 */
export function stopOnSignals(label: string, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const log = createLogger(label);
    log.info({ signal }, `${signal}: draining`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
