import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { replySaver } from './reply-saver';

describe('replySaver', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('writes the first words at once, even right after a save, then at most once per interval', () => {
    const save = vi.fn();
    const saver = replySaver(save, 300);
    saver.changed(); // the intent arrives: saved on the next turn of the event loop
    vi.advanceTimersByTime(0);
    expect(save).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(20);
    saver.changed(true); // the first token, 20 ms later: a reload now must find it
    expect(save).toHaveBeenCalledTimes(2);
    saver.changed(true);
    saver.changed(true);
    vi.advanceTimersByTime(299);
    expect(save).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(1);
    expect(save).toHaveBeenCalledTimes(3);
  });

  it('drops a pending save when cancelled', () => {
    const save = vi.fn();
    const saver = replySaver(save, 300);
    saver.changed(true);
    saver.changed(true);
    saver.cancel();
    vi.advanceTimersByTime(1000);
    expect(save).toHaveBeenCalledTimes(1);
  });
});
