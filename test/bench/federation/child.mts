/**
 * What every process the bench starts shares: it tells the bench where it
 * listens with one `READY <json>` line on stdout, and exits on SIGTERM/SIGINT
 * or when its stdin closes (the bench died), so nothing outlives a run.
 */
export function announce(value: unknown): void {
  process.stdout.write(`READY ${JSON.stringify(value)}\n`);
}

export function stopWithParent(stop: () => Promise<void>): void {
  let stopping = false;
  const exit = () => {
    if (stopping) return;
    stopping = true;
    // A clean exit, so `--cpu-prof` writes its profile.
    stop()
      .catch((error: unknown) => console.error('[bench] stop failed', error))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
  process.stdin.resume();
}
