import { throttle } from './throttle';

/**
 * Saves a streamed reply: its first words at once, so a reload right after them keeps them, and
 * then at most once per `intervalMs`, as a reply grows by dozens of tokens a second.
 */
export function replySaver(save: () => void, intervalMs: number) {
  const saver = throttle(save, intervalMs);
  let firstWords = true;
  return {
    /** The reply changed; `words` when its text grew. */
    changed(words = false) {
      saver.schedule();
      if (words && firstWords) saver.flush();
      if (words) firstWords = false;
    },
    /** Drops a pending save (the caller is about to do the final one itself). */
    cancel: () => saver.cancel(),
  };
}
