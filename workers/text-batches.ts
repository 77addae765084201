/**
 * Streams a reply's text to the UI in batches: a piece goes out at once when nothing went out in
 * the last `intervalMs`, else together with what follows it once that interval is over. phi-2 on a
 * CPU writes a token every 100 ms or more, and each goes out as it comes; a model writing hundreds
 * a second (the test model, a fast GPU) sends a message about once a frame instead of once a token,
 * since the UI draws once a frame anyway and every message costs its thread a task.
 */
export function textBatches(send: (text: string) => void, intervalMs: number) {
  let pending = '';
  let lastSent = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const sendPending = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (!pending) return;
    const text = pending;
    pending = '';
    lastSent = Date.now();
    send(text);
  };
  return {
    push(text: string) {
      if (!text) return;
      pending += text;
      const wait = lastSent + intervalMs - Date.now();
      // Checked here too, not only by the timer: a busy decode loop may run its timer late.
      if (wait <= 0) sendPending();
      else timer ??= setTimeout(sendPending, wait);
    },
    /** Sends what is held back at once: the reply is over, its final message comes next. */
    flush: sendPending,
  };
}
