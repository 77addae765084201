/**
 * Runs `task` at most once per `intervalMs`, always after the latest `schedule()` (trailing edge),
 * so a streamed reply is saved a few times a second rather than on every token.
 */
export function throttle(task: () => void, intervalMs: number) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = -Infinity;
  const run = () => {
    timer = null;
    last = Date.now();
    task();
  };
  return {
    schedule() {
      if (timer) return;
      timer = setTimeout(run, Math.max(0, last + intervalMs - Date.now()));
    },
    /** Drops a pending run (the caller is about to do the final one itself). */
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
    /** Runs a pending task now (the reply ended); does nothing when none is pending. */
    flush() {
      if (!timer) return;
      clearTimeout(timer);
      run();
    },
  };
}
