// @vitest-environment happy-dom
// ChatState persists through IndexedDB; fake-indexeddb stands in for it in Node. The real one is
// exercised by the end-to-end tests in Chromium.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { EngineInfo, Request, Response } from '../../workers/protocol';
import { ChatState } from './chat.svelte';
import { HOSTED_GPU_SOURCE } from './engine-settings';
import { customSource } from './model-source';
import type { AssistantMessage } from './store/types';

const GPU_INFO: EngineInfo = { engine: 'webllm', device: 'webgpu', model: 'phi-2-q4f32_1-MLC', quantization: 'q4f32', contextSize: 2048, adapter: 'gpu' };
const CLASSIFICATION = { probabilities: { support: 0.1, sales: 0.8, joke: 0.1 }, route: 'sales' } as const;

/** Stands in for the inference worker: records each request and answers it from a script. */
class ScriptedWorker {
  readonly requests: Request[] = [];
  private listener: ((event: MessageEvent<Response>) => void) | null = null;

  constructor(private readonly answer: (request: Request, worker: ScriptedWorker) => Omit<Response, 'id'>[]) {}

  postMessage(request: Request) {
    this.requests.push(request);
    for (const response of this.answer(request, this)) {
      setTimeout(() => this.listener?.({ data: { ...response, id: request.id } } as MessageEvent<Response>));
    }
  }

  addEventListener(type: string, listener: (event: MessageEvent<Response>) => void) {
    if (type === 'message') this.listener = listener;
  }

  terminate() {}
}

/** Waits until no reply is in flight (the scripted answers and their saves have all landed). */
/** Waits until no reply is in flight and no model is loading (a lost GPU reloads in the background). */
async function settle(chat: ChatState) {
  for (let i = 0; i < 500 && (chat.busy || chat.model.status === 'loading' || i === 0); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('ChatState', () => {
  it('keeps and marks a reply cut off by a lost GPU, reloads the model, and regenerates that reply in place', async () => {
    let chats = 0;
    const worker = new ScriptedWorker((request) => {
      if (request.type === 'load') return [{ type: 'loaded', info: GPU_INFO, reason: 'no shader-f16 on this adapter' }];
      if (request.type !== 'chat') return [];
      chats++;
      if (chats === 1) return [{ type: 'intent', classification: CLASSIFICATION }, { type: 'token', text: 'We sell' }, { type: 'done', stopReason: 'end' }];
      if (chats === 2) return [{ type: 'intent', classification: CLASSIFICATION }, { type: 'token', text: 'The cheapest is' }, { type: 'error', message: 'The GPU stopped responding.', deviceLost: true }];
      return [{ type: 'intent', classification: CLASSIFICATION }, { type: 'token', text: 'It costs 300 euros.' }, { type: 'done', stopReason: 'end' }];
    });
    const chat = new ChatState({ kind: 'custom', source: customSource('http://localhost/m/') }, () => worker as unknown as Worker, HOSTED_GPU_SOURCE, 'auto');

    await chat.send('Do you sell laptops?');
    await settle(chat);
    await chat.send('How much is the cheapest one?');
    await settle(chat);

    const cut = chat.messages[3] as AssistantMessage;
    expect(cut).toMatchObject({ status: 'interrupted', text: 'The cheapest is', error: 'The GPU stopped responding.' });
    expect(chat.busy).toBe(false);
    expect(worker.requests.filter((r) => r.type === 'load')).toHaveLength(2);
    expect(chat.model).toMatchObject({ status: 'ready', info: GPU_INFO });

    await chat.regenerate(cut.id);
    await settle(chat);
    expect(chat.messages).toHaveLength(4);
    expect(chat.messages[3]).toMatchObject({ status: 'done', text: 'It costs 300 euros.' });
    expect(worker.requests.at(-1)).toMatchObject({
      type: 'chat',
      message: 'How much is the cheapest one?',
      history: [{ user: 'Do you sell laptops?', assistant: 'We sell' }],
    });
  });

  it('listens only to the newest of two quick loads', async () => {
    const worker = new ScriptedWorker((request) =>
      request.type !== 'load'
        ? []
        : request.preference === 'webgpu'
          ? [{ type: 'attempt', attempt: { engine: 'webllm', variant: 'phi-2 q4f32', reason: 'r' } }, { type: 'error', message: 'Cancelled: another model was asked for.' }]
          : [{ type: 'loaded', info: { engine: 'transformers.js', device: 'wasm', model: 'm', dtype: 'fp32', threads: 1, contextSize: 2048 }, reason: 'CPU forced in settings' }],
    );
    const chat = new ChatState({ kind: 'custom', source: customSource('http://localhost/m/') }, () => worker as unknown as Worker, HOSTED_GPU_SOURCE, 'webgpu');
    const first = chat.loadModel();
    chat.preference = 'wasm';
    const second = chat.loadModel();
    expect(await first).toBe(false);
    expect(await second).toBe(true);
    expect(chat.model).toMatchObject({ status: 'ready', reason: 'CPU forced in settings' });
  });
});
