/// <reference lib="webworker" />
/** The benchmark's baseline in the browser: the app's engine in a worker of its own, driven by `measureReply`. */
import { TransformersEngine } from '../../../workers/transformers-engine';
import { measureReply } from './measure';
import type { BareLoaded, BareRequest, BareResponse, BareResult } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

let engine: TransformersEngine | null = null;
let contextSize = 0;

async function handle(request: BareRequest): Promise<BareLoaded | BareResult> {
  if (request.type === 'run') {
    if (!engine) throw new Error('Load the bare engine before running it.');
    return measureReply(engine, request, contextSize);
  }
  engine = new TransformersEngine({ threads: request.threads });
  const start = performance.now();
  const info = await engine.load(request.source, () => {});
  contextSize = info.contextSize;
  return {
    threads: info.engine === 'transformers.js' ? info.threads : 0,
    loadMs: performance.now() - start,
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
  };
}

self.addEventListener('message', (event: MessageEvent<BareRequest>) => {
  handle(event.data).then(
    (result) => self.postMessage({ ok: true, result } satisfies BareResponse),
    (error: unknown) => self.postMessage({ ok: false, error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) } satisfies BareResponse),
  );
});
