/**
 * Coalesces any number of `schedule()` calls into one run of `task` on the next animation frame, so
 * a reply streaming dozens of tokens a frame is rendered at most once per frame.
 */
export function oncePerFrame(
  task: () => void,
  request: (callback: FrameRequestCallback) => number = requestAnimationFrame,
  cancel: (handle: number) => void = cancelAnimationFrame,
) {
  let frame: number | null = null;
  return {
    schedule() {
      frame ??= request(() => {
        frame = null;
        task();
      });
    },
    /** Runs now, dropping a pending frame: the last render must not wait for one. */
    flush() {
      this.cancel();
      task();
    },
    cancel() {
      if (frame !== null) cancel(frame);
      frame = null;
    },
  };
}
