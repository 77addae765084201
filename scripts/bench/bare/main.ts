import type { BareLoad, BareLoaded, BareRequest, BareResponse, BareResult, BareRun } from './protocol';

declare global {
  interface Window {
    /** Starts a fresh bare worker (ending the one before) and loads the model in it. */
    bareLoad(request: BareLoad): Promise<BareLoaded>;
    bareRun(request: BareRun): Promise<BareResult>;
  }
}

let worker: Worker | null = null;

function ask<T>(request: BareRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const current = worker!;
    const onMessage = (event: MessageEvent<BareResponse>) => {
      current.removeEventListener('message', onMessage);
      if (event.data.ok) resolve(event.data.result as T);
      else reject(new Error(event.data.error));
    };
    current.addEventListener('message', onMessage);
    current.addEventListener('error', (event) => reject(new Error(event.message || 'the bare worker failed')), { once: true });
    current.postMessage(request);
  });
}

window.bareLoad = (request) => {
  worker?.terminate();
  worker = new Worker(new URL('./bare.worker.ts', import.meta.url), { type: 'module', name: 'bare-bench' });
  return ask<BareLoaded>({ type: 'load', ...request });
};
window.bareRun = (request) => ask<BareResult>({ type: 'run', ...request });
