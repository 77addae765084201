/// <reference lib="webworker" />
import { createHandler } from './handler';
import type { Request, Response } from './protocol';
import { TransformersEngine } from './transformers-engine';

declare const self: DedicatedWorkerGlobalScope;

const handle = createHandler(
  () => new TransformersEngine(),
  (response: Response) => self.postMessage(response),
);
self.addEventListener('message', (event: MessageEvent<Request>) => handle(event.data));
