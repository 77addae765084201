import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { textBatches } from './text-batches';

describe('textBatches', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends a piece at once when nothing went out for an interval, as a slow model writes', () => {
    const sent: string[] = [];
    const batches = textBatches((text) => sent.push(text), 16);
    batches.push('Hello');
    vi.advanceTimersByTime(100);
    batches.push(' there');
    expect(sent).toEqual(['Hello', ' there']);
  });

  it('joins the pieces of a fast model into one message an interval, in order and whole', () => {
    const sent: string[] = [];
    const batches = textBatches((text) => sent.push(text), 16);
    const pieces = Array.from({ length: 40 }, (_, i) => ` w${i}`);
    for (const piece of pieces) {
      batches.push(piece);
      vi.advanceTimersByTime(1);
    }
    batches.flush();
    expect(sent.join('')).toBe(pieces.join(''));
    expect(sent.length).toBeLessThanOrEqual(4);
  });

  it('sends held text when its interval is over, without waiting for more', () => {
    const sent: string[] = [];
    const batches = textBatches((text) => sent.push(text), 16);
    batches.push('a');
    batches.push('b');
    expect(sent).toEqual(['a']);
    vi.advanceTimersByTime(16);
    expect(sent).toEqual(['a', 'b']);
  });

  it('flushes held text at once and then has nothing left to send', () => {
    const sent: string[] = [];
    const batches = textBatches((text) => sent.push(text), 16);
    batches.push('a');
    batches.push('b');
    batches.flush();
    batches.flush();
    vi.advanceTimersByTime(100);
    expect(sent).toEqual(['a', 'b']);
  });
});
