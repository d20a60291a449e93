/**
 * Terminal progress for long imports (the WordNet seeds insert ~117k synsets).
 *
 * Hand-written rather than `cli-progress` so the kit carries no dependency for
 * a ~100-line feature. On a TTY it redraws one line in place (`\r`); on a
 * non-TTY stream (CI logs, `| tee`) carriage returns would pile up into one
 * giant line or spam the log, so it prints a plain line at most every 2 s and
 * a final one on `stop()`.
 */

export interface ProgressReporter {
  /** Records `n` more items done. */
  tick(n: number): void;
  /** Prints the final state and ends the line; later calls of `tick`/`stop` do nothing. */
  stop(): void;
}

export interface ProgressOptions {
  /** Clock in milliseconds; injectable so tests need not wait for real time. Default `performance.now`. */
  now?: () => number;
}

/** Minimum time between two plain lines on a non-TTY stream. */
const PLAIN_INTERVAL_MS = 2000;
/** Minimum time between two redraws on a TTY: fast enough to look live, cheap at 100k ticks/s. */
const TTY_INTERVAL_MS = 100;
const BAR_WIDTH_MAX = 30;

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/**
 * A progress bar with rate (items/s) and ETA on a TTY; on a non-TTY stream a
 * plain line at most every 2 seconds and at the end, e.g.
 * `knowledge: 45000/117659 (38%) 9,800/s ETA 7s`. Writes to stderr by default
 * so it never mixes with a script's stdout output.
 */
export function createProgress(
  label: string,
  total: number,
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } = process.stderr,
  options: ProgressOptions = {},
): ProgressReporter {
  const now = options.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  const interval = tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS;
  const started = now();
  let lastDraw = started;
  let done = 0;
  let stopped = false;

  const status = (final: boolean): string => {
    const elapsedMs = now() - started;
    const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
    const ratio = total > 0 ? Math.min(done / total, 1) : 1;
    const percent = Math.floor(ratio * 100);
    const tail = final
      ? `done in ${formatDuration(elapsedMs / 1000)}`
      : `ETA ${rate > 0 ? formatDuration(Math.max(total - done, 0) / rate) : '?'}`;
    const counts = `${String(done)}/${String(total)} (${String(percent)}%) ${integer.format(rate)}/s ${tail}`;
    if (!tty) return `${label}: ${counts}`;
    // A pty without a size reports 0 columns: assume the classic 80.
    const columns = typeof stream.columns === 'number' && stream.columns > 0 ? stream.columns : 80;
    const room = columns - label.length - counts.length - 6;
    const width = Math.min(BAR_WIDTH_MAX, room);
    if (width < 5) return `${label}: ${counts}`;
    const filled = Math.round(ratio * width);
    return `${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${counts}`;
  };

  const draw = (final: boolean): void => {
    lastDraw = now();
    const line = status(final);
    // `\x1b[K` clears what a longer previous line left behind.
    stream.write(tty ? `\r${line}\x1b[K${final ? '\n' : ''}` : `${line}\n`);
  };

  if (tty) draw(false);

  return {
    tick(n: number): void {
      if (stopped) return;
      done += n;
      if (now() - lastDraw >= interval) draw(false);
    },
    stop(): void {
      if (stopped) return;
      stopped = true;
      draw(true);
    },
  };
}

/** `7s`, `2m05s`, `1h02m`: short enough for one terminal line. */
function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${String(s)}s`;
  if (s < 3600) return `${String(Math.floor(s / 60))}m${two(s % 60)}s`;
  return `${String(Math.floor(s / 3600))}h${two(Math.floor((s % 3600) / 60))}m`;
}
