import { describe, expect, it } from 'vitest';
import { withDeadline } from './deadline.ts';

const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('withDeadline', () => {
  it("answers work's result when it comes first", async () => {
    expect(await withDeadline(after(5, 'work'), 1_000, () => 'late')).toBe('work');
  });

  it('answers the fallback, or its error, once the deadline passes', async () => {
    expect(await withDeadline(after(1_000, 'work'), 10, () => 'fallback')).toBe('fallback');
    await expect(
      withDeadline(after(1_000, 'work'), 10, () => {
        throw new Error('too slow');
      }),
    ).rejects.toThrow('too slow');
  });

  it("passes work's own failure on, and swallows one that comes after the deadline", async () => {
    await expect(withDeadline(Promise.reject(new Error('broken')), 1_000, () => 'x')).rejects.toThrow('broken');
    const late = new Promise<string>((_resolve, reject) => setTimeout(() => reject(new Error('late')), 20));
    expect(await withDeadline(late, 5, () => 'fallback')).toBe('fallback');
    await new Promise((resolve) => setTimeout(resolve, 30)); // an unhandled rejection here would fail the run
  });
});
