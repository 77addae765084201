/**
 * Which messages of a long conversation are rendered: those near the viewport. Heights are
 * measured once a message has been rendered and estimated before, so the space above and below
 * the rendered ones keeps the scrollbar true to the whole conversation.
 */

/** The rendered messages: indexes `start` (inclusive) to `end` (exclusive). */
export interface ShownRange {
  start: number;
  end: number;
}

/**
 * How many messages a conversation may have and still be rendered whole (so find-in-page sees all
 * of it), how many are rendered on opening a longer one, the most added in one step (one task each, so none is
 * long), the most ever rendered at once, and how far past the viewport to render (px).
 */
export const WINDOW = { initial: 2, step: 2, max: 40, overscanPx: 600, whole: 50 } as const;

/** Measured heights by index (each with the gap after it); `estimate` stands in for the others. */
export interface Heights {
  measured: readonly (number | undefined)[];
  estimate: number;
}

const heightOf = ({ measured, estimate }: Heights, index: number) => measured[index] ?? estimate;

/** What opening a conversation of `total` messages renders: all of a short one, the latest of a long one. */
export function latestRange(total: number): ShownRange {
  return { start: total <= WINDOW.whole ? 0 : total - WINDOW.initial, end: total };
}

/** The distance from the top of the first message to the top of message `index`. */
export function offsetOf(heights: Heights, index: number): number {
  let offset = 0;
  for (let i = 0; i < index; i++) offset += heightOf(heights, i);
  return offset;
}

/** The messages within `overscanPx` of a viewport `viewport` px tall, scrolled `scrollTop` px down the list. */
export function rangeAt(heights: Heights, total: number, scrollTop: number, viewport: number): ShownRange {
  if (total <= WINDOW.whole) return { start: 0, end: total };
  const top = scrollTop - WINDOW.overscanPx;
  const bottom = scrollTop + viewport + WINDOW.overscanPx;
  let y = 0;
  let i = 0;
  while (i < total - 1 && y + heightOf(heights, i) <= top) y += heightOf(heights, i++);
  const start = i;
  while (i < total && y < bottom && i - start < WINDOW.max) y += heightOf(heights, i++);
  return { start, end: Math.max(i, Math.min(total, start + 1)) };
}

/** The mean of the measured heights, the best guess for the others. */
export function meanHeight(measured: readonly (number | undefined)[], fallback: number): number {
  let sum = 0;
  let count = 0;
  for (const height of measured) {
    if (height === undefined) continue;
    sum += height;
    count++;
  }
  return count ? sum / count : fallback;
}

/**
 * One step from the rendered range towards `target`: dropping messages costs little, so that is
 * done at once; at most `WINDOW.step` are added at each end. A target that does not overlap (a jump
 * of the scrollbar) starts at `visible`, the first message in view.
 */
export function stepTowards(current: ShownRange, target: ShownRange, visible: number): ShownRange {
  if (target.start >= current.end || target.end <= current.start) {
    const start = Math.min(Math.max(visible, target.start), Math.max(target.start, target.end - WINDOW.step));
    return { start, end: Math.min(target.end, start + WINDOW.step) };
  }
  return {
    start: target.start < current.start ? Math.max(target.start, current.start - WINDOW.step) : target.start,
    end: target.end > current.end ? Math.min(target.end, current.end + WINDOW.step) : target.end,
  };
}
