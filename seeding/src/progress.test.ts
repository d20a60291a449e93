import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.ts';

/** A real Writable that keeps what was written; `isTTY`/`columns` as a terminal stream would carry them. */
class Collector extends Writable {
  chunks: string[] = [];
  isTTY: boolean;
  columns: number | undefined;

  constructor(isTTY: boolean, columns?: number) {
    super();
    this.isTTY = isTTY;
    this.columns = columns;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk.toString('utf8'));
    callback();
  }

  get text(): string {
    return this.chunks.join('');
  }
}

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('createProgress on a non-TTY stream', () => {
  it('prints a plain line at most every 2 seconds and a final one', () => {
    const out = new Collector(false);
    const clock = manualClock();
    const progress = createProgress('knowledge', 117_659, out, { now: clock.now });
    expect(out.text).toBe('');

    clock.advance(1_000);
    progress.tick(10_000);
    expect(out.text).toBe(''); // 1 s in: too early

    clock.advance(1_000);
    progress.tick(10_000);
    expect(out.chunks).toEqual(['knowledge: 20000/117659 (16%) 10,000/s ETA 10s\n']);

    clock.advance(500);
    progress.tick(5_000);
    clock.advance(1_000);
    progress.tick(10_000);
    expect(out.chunks).toHaveLength(1); // 1.5 s since the last line

    clock.advance(1_000);
    progress.tick(10_000);
    expect(out.chunks[1]).toBe('knowledge: 45000/117659 (38%) 10,000/s ETA 7s\n');

    clock.advance(7_000);
    progress.tick(72_659);
    progress.stop();
    expect(out.chunks).toHaveLength(4);
    expect(out.chunks[2]).toBe('knowledge: 117659/117659 (100%) 10,231/s ETA 0s\n');
    expect(out.chunks[3]).toBe('knowledge: 117659/117659 (100%) 10,231/s done in 12s\n');
    expect(out.text).not.toContain('\r');
  });

  it('ignores ticks and stops after stop()', () => {
    const out = new Collector(false);
    const clock = manualClock();
    const progress = createProgress('units', 10, out, { now: clock.now });
    progress.tick(3);
    progress.stop();
    clock.advance(5_000);
    progress.tick(3);
    progress.stop();
    expect(out.chunks).toEqual(['units: 3/10 (30%) 0/s done in 0s\n']);
  });

  it('shows an unknown ETA before anything is done, and copes with a zero total and overshoot', () => {
    const out = new Collector(false);
    const clock = manualClock();
    const progress = createProgress('empty', 0, out, { now: clock.now });
    clock.advance(2_000);
    progress.tick(0);
    progress.tick(2);
    expect(out.chunks[0]).toBe('empty: 0/0 (100%) 0/s ETA ?\n');
    progress.stop();
    expect(out.chunks[1]).toBe('empty: 2/0 (100%) 1/s done in 2s\n');
  });

  it('formats long ETAs in minutes and hours', () => {
    const out = new Collector(false);
    const clock = manualClock();
    const progress = createProgress('slow', 1_000_000, out, { now: clock.now });
    clock.advance(2_000);
    progress.tick(100); // 50/s -> 19998 s left
    clock.advance(2_000);
    progress.tick(9_900); // 2500/s -> 396 s left
    expect(out.chunks).toEqual([
      'slow: 100/1000000 (0%) 50/s ETA 5h33m\n',
      'slow: 10000/1000000 (1%) 2,500/s ETA 6m36s\n',
    ]);
  });

  it('writes to a real stream with real time', () => {
    const out = new Collector(false);
    const progress = createProgress('real', 3, out);
    progress.tick(3);
    progress.stop();
    expect(out.text).toMatch(/^real: 3\/3 \(100%\) [\d,]+\/s done in 0s\n$/);
  });
});

describe('createProgress on a TTY', () => {
  it('redraws one line in place with a bar, throttled, and ends it on stop', () => {
    const out = new Collector(true, 120);
    const clock = manualClock();
    const progress = createProgress('knowledge', 100, out, { now: clock.now });
    expect(out.chunks).toHaveLength(1);
    expect(out.chunks[0]).toBe(`\rknowledge [${'░'.repeat(30)}] 0/100 (0%) 0/s ETA ?\x1b[K`);

    clock.advance(50);
    progress.tick(10);
    expect(out.chunks).toHaveLength(1); // under 100 ms since the last draw

    clock.advance(950);
    progress.tick(40);
    expect(out.chunks[1]).toBe(`\rknowledge [${'█'.repeat(15)}${'░'.repeat(15)}] 50/100 (50%) 50/s ETA 1s\x1b[K`);

    progress.tick(50);
    progress.stop();
    expect(out.chunks[2]).toBe(`\rknowledge [${'█'.repeat(30)}] 100/100 (100%) 100/s done in 1s\x1b[K\n`);
    expect(out.text.split('\n')).toHaveLength(2); // one line, then the final newline
  });

  it('drops the bar when the terminal is too narrow', () => {
    const out = new Collector(true, 40);
    const clock = manualClock();
    const progress = createProgress('knowledge', 117_659, out, { now: clock.now });
    progress.stop();
    expect(out.chunks.at(-1)).toBe('\rknowledge: 0/117659 (0%) 0/s done in 0s\x1b[K\n');
  });
});
