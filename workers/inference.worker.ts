/// <reference lib="webworker" />
import { probeGpu } from './gpu-probe';
import { createHandler } from './handler';
import type { Request, Response } from './protocol';
import { TransformersEngine } from './transformers-engine';

declare const self: DedicatedWorkerGlobalScope;

const handle = createHandler(
  {
    engines: {
      transformers: ({ kvReuse }) => new TransformersEngine({ kvReuse }),
      // WebLLM is megabytes of JavaScript: fetched only when the GPU path is taken.
      webllm: async () => new (await import('./webllm-engine')).WebLLMEngine(),
    },
    probeGpu,
  },
  (response: Response) => self.postMessage(response),
);
self.addEventListener('message', (event: MessageEvent<Request>) => handle(event.data));
