import { describe, expect, it } from 'vitest';
import type { Engine } from './engine';
import { createHandler } from './handler';
import type { EngineInfo, Request, Response } from './protocol';

const INFO: EngineInfo = { engine: 'transformers.js', device: 'wasm', model: 'm', dtype: 'fp32', threads: 1, contextSize: 2048 };
const SOURCE = { id: 'http://localhost/m/', dtype: 'fp32', file: 'model', externalData: false } as const;

/**
 * An engine that replays a fixed script: it tests the protocol's bookkeeping (ids, ordering, exactly
 * one final message), not inference, which the end-to-end tests run for real.
 */
function scriptedEngine(tokens: string[], options: { failLoad?: Error; scores?: number[] } = {}) {
  const calls = { unload: 0, generated: 0 };
  const engine: Engine = {
    async load(_source, onProgress) {
      onProgress([{ file: 'onnx/model.onnx', loaded: 5, total: 10, done: false }]);
      if (options.failLoad) throw options.failLoad;
      return INFO;
    },
    countTokens: (text) => text.length,
    scoreContinuations: async () => options.scores ?? [-0.1, -3, -3],
    async generate(_prompt, _params, onText, signal) {
      for (const token of tokens) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (signal.aborted) return 'stopped';
        calls.generated++;
        if (!onText(token)) return 'stopped';
      }
      return 'end';
    },
    async unload() {
      calls.unload++;
    },
  };
  return { engine, calls };
}

function harness(engine: () => Engine) {
  const responses: Response[] = [];
  const handle = createHandler(engine, (r) => responses.push(r));
  const finished = (id: number) =>
    new Promise<Response[]>((resolve) => {
      const poll = () => {
        const mine = responses.filter((r) => r.id === id);
        if (mine.some((r) => r.type === 'done' || r.type === 'loaded' || r.type === 'error')) resolve(mine);
        else setTimeout(poll, 1);
      };
      poll();
    });
  return { handle: (r: Request) => handle(r), finished, responses };
}

describe('worker request handler', () => {
  it('streams intent, tokens, then exactly one done, cutting at a speaker marker', async () => {
    const { engine } = scriptedEngine([' Hi', ' there', '\nHu', 'man:', ' more']);
    const h = harness(() => engine);
    h.handle({ id: 1, type: 'load', source: SOURCE });
    h.handle({ id: 2, type: 'chat', history: [], message: 'hello' });
    const load = await h.finished(1);
    expect(load.map((r) => r.type)).toEqual(['progress', 'loaded']);
    const chat = await h.finished(2);
    expect(chat.map((r) => r.type)).toEqual(['intent', 'prompt', 'token', 'token', 'done']);
    expect(chat.filter((r) => r.type === 'token').map((r) => (r as { text: string }).text).join('')).toBe('Hi there');
    expect(chat.at(-1)).toMatchObject({ type: 'done', stopReason: 'end' });
    expect(chat[0]).toMatchObject({ type: 'intent', classification: { route: 'support' } });
  });

  it('stops a reply on request and ends it with done/aborted', async () => {
    const { engine, calls } = scriptedEngine(Array.from({ length: 200 }, (_, i) => ` w${i}`));
    const h = harness(() => engine);
    h.handle({ id: 1, type: 'load', source: SOURCE });
    h.handle({ id: 2, type: 'chat', history: [], message: 'go on' });
    while (!h.responses.some((r) => r.type === 'token')) await new Promise((r) => setTimeout(r, 1));
    h.handle({ id: 3, type: 'stop', target: 2 });
    const chat = await h.finished(2);
    expect(chat.at(-1)).toMatchObject({ type: 'done', stopReason: 'aborted' });
    expect(calls.generated).toBeLessThan(200);
    expect(chat.filter((r) => r.type === 'done' || r.type === 'error')).toHaveLength(1);
  });

  it('answers a failed load with one error naming the cause, and a chat without a model with an error', async () => {
    const { engine } = scriptedEngine([], { failLoad: new Error('boom') });
    const h = harness(() => engine);
    h.handle({ id: 1, type: 'load', source: SOURCE });
    h.handle({ id: 2, type: 'chat', history: [], message: 'hi' });
    expect((await h.finished(1)).at(-1)).toMatchObject({ type: 'error', message: expect.stringContaining('boom') });
    expect((await h.finished(2)).at(-1)).toMatchObject({ type: 'error', message: expect.stringContaining('No model') });
  });

  it('refuses a message longer than the context with a clear error before classifying', async () => {
    const { engine } = scriptedEngine([' never']);
    const h = harness(() => engine);
    h.handle({ id: 1, type: 'load', source: SOURCE });
    h.handle({ id: 2, type: 'chat', history: [], message: 'x'.repeat(5000) });
    const chat = await h.finished(2);
    expect(chat.map((r) => r.type)).toEqual(['error']);
    expect(chat[0]).toMatchObject({ message: expect.stringMatching(/too long for the model/) });
  });

  it('unloads the old engine before loading another model, and reuses a loaded one', async () => {
    const first = scriptedEngine([]);
    const second = scriptedEngine([]);
    const engines = [first.engine, second.engine];
    const h = harness(() => engines.shift()!);
    h.handle({ id: 1, type: 'load', source: SOURCE });
    h.handle({ id: 2, type: 'load', source: SOURCE });
    h.handle({ id: 3, type: 'load', source: { ...SOURCE, id: 'http://localhost/other/' } });
    await h.finished(3);
    expect(h.responses.filter((r) => r.id === 2).map((r) => r.type)).toEqual(['loaded']);
    expect(first.calls.unload).toBe(1);
    expect(engines).toHaveLength(0);
  });
});
