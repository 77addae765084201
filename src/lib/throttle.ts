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
    /** Runs a pending task now (the reply ended); does nothing when none is pending. */
    flush() {
      if (!timer) return;
      clearTimeout(timer);
      run();
    },
  };
}
