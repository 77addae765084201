/**
 * Makes a cancelled WebLLM load really stop downloading. `MLCEngine.unload()` aborts the reload's
 * controller and then drops it (`lib/index.js` 18362–18363 in 0.2.86), and `reloadInternal` reads
 * `this.reloadController?.signal` afresh before each step (18313): a cancel that lands between two
 * steps lets every later step download without a signal, the weights (1.6 to 2.7 GB) included.
 * Its tokenizer fetch never takes a signal at all (14919).
 *
 * So while `run` runs, every fetch in this worker also carries `signal` (loads never overlap, and
 * nothing else fetches during one), and a cancel aborts WebLLM's own controller without dropping
 * it: the four parallel shard downloads (8248–8255), which can outlive a rejected reload, keep an
 * aborted signal.
 */
export async function withCancellableFetches<T>(signal: AbortSignal, engine: object, run: () => Promise<T>): Promise<T> {
  const internals = engine as { reloadController?: AbortController };
  const abortWebLLM = () => internals.reloadController?.abort(signal.reason);
  signal.addEventListener('abort', abortWebLLM, { once: true });
  const scope = globalThis;
  const plainFetch = scope.fetch;
  scope.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    if (signal.aborted) return Promise.reject(signal.reason);
    const own = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    if (!own) return plainFetch.call(scope, input, { ...init, signal });
    // `AbortSignal.any` is Chromium 116+, WebGPU 113+: before it, a fetch with a signal of its own
    // keeps that one, and WebLLM's controller, aborted on cancel, still ends it.
    return plainFetch.call(scope, input, typeof AbortSignal.any === 'function' ? { ...init, signal: AbortSignal.any([own, signal]) } : init);
  };
  try {
    return await run();
  } finally {
    scope.fetch = plainFetch;
    signal.removeEventListener('abort', abortWebLLM);
  }
}
