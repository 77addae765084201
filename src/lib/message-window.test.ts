import { describe, expect, it } from 'vitest';
import { latestRange, meanHeight, offsetOf, rangeAt, stepTowards, WINDOW } from './message-window';

describe('message window', () => {
  it('opens on the latest messages, or on all of a short conversation', () => {
    expect(latestRange(5000)).toEqual({ start: 5000 - WINDOW.initial, end: 5000 });
    expect(latestRange(WINDOW.whole)).toEqual({ start: 0, end: WINDOW.whole });
    expect(rangeAt({ measured: [], estimate: 100 }, WINDOW.whole, 4000, 500)).toEqual({ start: 0, end: WINDOW.whole });
    expect(latestRange(0)).toEqual({ start: 0, end: 0 });
  });

  it('adds measured heights where known and the estimate elsewhere', () => {
    const heights = { measured: [100, undefined, 50], estimate: 80 };
    expect(offsetOf(heights, 0)).toBe(0);
    expect(offsetOf(heights, 3)).toBe(230);
    expect(offsetOf(heights, 5)).toBe(390);
  });

  it('renders the messages near the viewport, wherever it is scrolled', () => {
    const heights = { measured: [], estimate: 100 };
    const overscan = WINDOW.overscanPx / 100;
    expect(rangeAt(heights, 5000, 0, 500)).toEqual({ start: 0, end: 5 + overscan });
    expect(rangeAt(heights, 5000, 250_000, 500)).toEqual({ start: 2500 - overscan, end: 2505 + overscan });
    expect(rangeAt(heights, 5000, 499_500, 500)).toEqual({ start: 4995 - overscan, end: 5000 });
  });

  it('never renders more than the maximum at once, and always at least one message', () => {
    const tiny = { measured: [], estimate: 1 };
    const { start, end } = rangeAt(tiny, 5000, 2000, 800);
    expect(end - start).toBe(WINDOW.max);
    expect(rangeAt({ measured: [], estimate: 100 }, 300, 100_000, 500)).toEqual({ start: 299, end: 300 });
    expect(rangeAt({ measured: [], estimate: 100 }, 0, 0, 500)).toEqual({ start: 0, end: 0 });
  });

  it('estimates unmeasured heights by the mean of the measured ones', () => {
    expect(meanHeight([100, undefined, 50], 160)).toBe(75);
    expect(meanHeight([], 160)).toBe(160);
  });

  it('steps towards the range to render, adding a few messages per step and dropping any number', () => {
    const step = WINDOW.step;
    expect(stepTowards({ start: 100, end: 110 }, { start: 90, end: 105 }, 95)).toEqual({ start: 100 - step, end: 105 });
    expect(stepTowards({ start: 100, end: 110 }, { start: 105, end: 130 }, 110)).toEqual({ start: 105, end: 110 + step });
    expect(stepTowards({ start: 100, end: 110 }, { start: 102, end: 108 }, 104)).toEqual({ start: 102, end: 108 });
    let range = { start: 4990, end: 5000 };
    const target = { start: 0, end: 12 };
    range = stepTowards(range, target, 0);
    expect(range).toEqual({ start: 0, end: step });
    for (let i = 0; i < 12 && range.end < target.end; i++) range = stepTowards(range, target, 0);
    expect(range).toEqual(target);
  });

  it('a jump to the end starts at the messages in view', () => {
    expect(stepTowards({ start: 0, end: 10 }, { start: 4990, end: 5000 }, 4996)).toEqual({ start: 4996, end: 4996 + WINDOW.step });
    expect(stepTowards({ start: 0, end: 10 }, { start: 4990, end: 5000 }, 5000)).toEqual({ start: 5000 - WINDOW.step, end: 5000 });
  });
});
