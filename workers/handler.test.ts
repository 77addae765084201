import { describe, expect, it } from 'vitest';
import type { Engine } from './engine';
import type { AdapterDescription, GpuProbe } from './engine-select';
import { ExplainedError, GpuDeviceLostError } from './errors';
import { createHandler } from './handler';
import type { EngineInfo, EnginePreference, LoadRequest, Request, Response } from './protocol';
import type { WebLLMModel } from './webllm-models';
import { defaultChatSettings } from './defaults';
import { PLAIN_FORMAT } from './prompt-format';
import { loadModelOf, PHI2 } from '../src/lib/model-catalog';

const chatRequest = (id: number, message: string): Request => ({ id, type: 'chat', history: [], message, settings: defaultChatSettings(), intent: 'auto' });

const WASM_INFO: EngineInfo = { engine: 'transformers.js', device: 'wasm', model: 'm', dtype: 'fp32', threads: 1, contextSize: 2048 };
const GPU_INFO: EngineInfo = { engine: 'webllm', device: 'webgpu', model: 'phi-2-q4f32_1-MLC', quantization: 'q4f32', contextSize: 2048, adapter: 'google swiftshader' };
const SOURCE = { id: 'http://localhost/m/', dtype: 'fp32', file: 'model', externalData: false } as const;
const GPU_SOURCE = { weightsBaseUrl: 'http://localhost/webllm/', libBaseUrl: 'http://localhost/webllm/' };
const loadRequest = (id: number, preference: EnginePreference = 'auto', source: LoadRequest['source'] = SOURCE): Request => ({
  id,
  type: 'load',
  model: loadModelOf(PHI2),
  source,
  gpuSource: GPU_SOURCE,
  preference,
});

const NO_ADAPTER: GpuProbe = { status: 'no-adapter' };
const SWIFTSHADER: GpuProbe = {
  status: 'adapter',
  adapter: {
    name: 'google swiftshader',
    features: ['subgroups'],
    limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30, maxComputeWorkgroupStorageSize: 32768, maxStorageBuffersPerShaderStage: 10 },
  } satisfies AdapterDescription,
};

const tick = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts engines whose load finished and that were not unloaded since: never more than one. */
class Ledger {
  loaded = 0;
  mostAtOnce = 0;
  add() {
    this.mostAtOnce = Math.max(this.mostAtOnce, ++this.loaded);
  }
}

interface ScriptOptions {
  info?: EngineInfo;
  failLoad?: Error;
  scores?: number[];
  /** The load takes this long; with `honoursAbort` it ends early when its signal aborts, like WebLLM's. */
  loadMs?: number;
  honoursAbort?: boolean;
  /** The GPU device is lost after this many tokens. */
  loseDeviceAfter?: number;
  ledger?: Ledger;
}

/**
 * An engine that replays a fixed script: it tests the protocol's bookkeeping (ids, ordering, exactly
 * one final message, which engine is loaded), not inference, which the end-to-end tests run for real.
 */
function scriptedEngine<Source>(tokens: string[], options: ScriptOptions = {}) {
  const calls = { load: 0, unload: 0, generated: 0, sources: [] as Source[] };
  let counted = false;
  const engine: Engine<Source> = {
    promptFormat: () => PLAIN_FORMAT,
    async load(source, onProgress, signal) {
      calls.load++;
      calls.sources.push(source);
      onProgress([{ file: 'onnx/model.onnx', loaded: 5, total: 10, done: false }]);
      for (let waited = 0; waited < (options.loadMs ?? 0); waited++) {
        if (options.honoursAbort && signal?.aborted) throw new Error('aborted');
        await tick();
      }
      if (options.failLoad) throw options.failLoad;
      options.ledger?.add();
      counted = true;
      return options.info ?? WASM_INFO;
    },
    countTokens: (text) => text.length,
    scoreContinuations: async () => options.scores ?? [-0.1, -3, -3],
    async generate(_prompt, _params, onText, signal) {
      for (const token of tokens) {
        await tick();
        if (signal.aborted) return 'stopped';
        if (calls.generated === options.loseDeviceAfter) throw new GpuDeviceLostError('GPUDevice lost (unknown): test');
        calls.generated++;
        if (!onText(token)) return 'stopped';
      }
      return 'end';
    },
    async unload() {
      calls.unload++;
      if (counted && options.ledger) options.ledger.loaded--;
      counted = false;
    },
  };
  return { engine, calls };
}

type Scripted<Source> = ReturnType<typeof scriptedEngine<Source>>;

function harness(
  { cpu = [], gpu = [], probe = NO_ADAPTER }: { cpu?: Scripted<unknown>[]; gpu?: Scripted<unknown>[]; probe?: GpuProbe },
) {
  const responses: Response[] = [];
  const made = { cpu: 0, gpu: 0, probes: 0 };
  const handle = createHandler(
    {
      engines: {
        transformers: () => cpu[made.cpu++].engine as Engine<typeof SOURCE>,
        webllm: async () => gpu[made.gpu++].engine as Engine<WebLLMModel>,
      },
      probeGpu: async () => {
        made.probes++;
        return probe;
      },
    },
    (r) => responses.push(r),
  );
  const finished = (id: number) =>
    new Promise<Response[]>((resolve) => {
      const poll = () => {
        const mine = responses.filter((r) => r.id === id);
        if (mine.some((r) => r.type === 'done' || r.type === 'loaded' || r.type === 'error')) resolve(mine);
        else setTimeout(poll, 1);
      };
      poll();
    });
  return { handle: (r: Request) => handle(r), finished, responses, made };
}

describe('worker request handler', () => {
  it('streams intent, tokens, then exactly one done, cutting at a speaker marker', async () => {
    const h = harness({ cpu: [scriptedEngine([' Hi', ' there', '\nHu', 'man:', ' more'])] });
    h.handle(loadRequest(1));
    h.handle(chatRequest(2, 'hello'));
    const load = await h.finished(1);
    expect(load.map((r) => r.type)).toEqual(['attempt', 'progress', 'loaded']);
    const chat = await h.finished(2);
    expect(chat.map((r) => r.type)).toEqual(['intent', 'prompt', 'token', 'token', 'done']);
    expect(chat.filter((r) => r.type === 'token').map((r) => (r as { text: string }).text).join('')).toBe('Hi there');
    expect(chat.at(-1)).toMatchObject({ type: 'done', stopReason: 'end' });
    expect(chat[0]).toMatchObject({ type: 'intent', classification: { route: 'support' } });
  });

  it('stops a reply on request and ends it with done/aborted', async () => {
    const cpu = scriptedEngine(Array.from({ length: 200 }, (_, i) => ` w${i}`));
    const h = harness({ cpu: [cpu] });
    h.handle(loadRequest(1));
    h.handle(chatRequest(2, 'go on'));
    while (!h.responses.some((r) => r.type === 'token')) await tick();
    h.handle({ id: 3, type: 'stop', target: 2 });
    const chat = await h.finished(2);
    expect(chat.at(-1)).toMatchObject({ type: 'done', stopReason: 'aborted' });
    expect(cpu.calls.generated).toBeLessThan(200);
    expect(chat.filter((r) => r.type === 'done' || r.type === 'error')).toHaveLength(1);
  });

  it('answers a failed load with one error naming the cause, and a chat without a model with an error', async () => {
    const h = harness({ cpu: [scriptedEngine([], { failLoad: new Error('boom') })] });
    h.handle(loadRequest(1));
    h.handle(chatRequest(2, 'hi'));
    expect((await h.finished(1)).at(-1)).toMatchObject({ type: 'error', message: expect.stringContaining('boom') });
    expect((await h.finished(2)).at(-1)).toMatchObject({ type: 'error', message: expect.stringContaining('No model') });
  });

  it('refuses a message longer than the context with a clear error before classifying', async () => {
    const h = harness({ cpu: [scriptedEngine([' never'])] });
    h.handle(loadRequest(1));
    h.handle(chatRequest(2, 'x'.repeat(5000)));
    const chat = await h.finished(2);
    expect(chat.map((r) => r.type)).toEqual(['error']);
    expect(chat[0]).toMatchObject({ message: expect.stringMatching(/too long for the model/) });
  });

  it('unloads the old engine before loading another model, and reuses a loaded one', async () => {
    const first = scriptedEngine([]);
    const second = scriptedEngine([]);
    const h = harness({ cpu: [first, second] });
    h.handle(loadRequest(1));
    await h.finished(1);
    h.handle(loadRequest(2));
    await h.finished(2);
    h.handle(loadRequest(3, 'auto', { ...SOURCE, id: 'http://localhost/other/' }));
    await h.finished(3);
    expect(h.responses.filter((r) => r.id === 2).map((r) => r.type)).toEqual(['loaded']);
    expect(first.calls.unload).toBe(1);
    expect(h.made.cpu).toBe(2);
  });
});

describe('engine choice and fallback', () => {
  it('without a GPU adapter, loads the CPU engine and says why', async () => {
    const h = harness({ cpu: [scriptedEngine([])], probe: NO_ADAPTER });
    h.handle(loadRequest(1));
    const load = await h.finished(1);
    expect(load[0]).toEqual({ id: 1, type: 'attempt', attempt: { engine: 'transformers.js', reason: 'WebGPU found no graphics adapter' } });
    expect(load.at(-1)).toEqual({ id: 1, type: 'loaded', info: WASM_INFO, reason: 'WebGPU found no graphics adapter' });
    expect(h.made.gpu).toBe(0);
  });

  it('with an adapter, loads WebLLM with the variant the adapter calls for', async () => {
    const gpu = scriptedEngine<WebLLMModel>([], { info: GPU_INFO });
    const h = harness({ gpu: [gpu as Scripted<unknown>], probe: SWIFTSHADER });
    h.handle(loadRequest(1));
    const load = await h.finished(1);
    expect(load[0]).toEqual({ id: 1, type: 'attempt', attempt: { engine: 'webllm', variant: 'phi-2 q4f32', reason: 'no shader-f16 on this adapter' } });
    expect(load.at(-1)).toEqual({ id: 1, type: 'loaded', info: GPU_INFO, reason: 'no shader-f16 on this adapter' });
    expect(gpu.calls.sources[0]).toMatchObject({ variant: { id: 'phi-2-q4f32_1-MLC' }, source: GPU_SOURCE });
  });

  it('loads a model with no GPU build on the CPU without probing, and names the model', async () => {
    const cpu = scriptedEngine([]);
    const h = harness({ cpu: [cpu], probe: SWIFTSHADER });
    h.handle({ ...(loadRequest(1) as LoadRequest), model: { name: 'phi-tiny', gpuVariants: [] } });
    const load = await h.finished(1);
    expect(load[0]).toEqual({ id: 1, type: 'attempt', attempt: { engine: 'transformers.js', reason: 'phi-tiny has no GPU build' } });
    expect(h.made.probes).toBe(0);
  });

  it('refuses a GPU-only model where the GPU cannot run it, naming the model', async () => {
    const h = harness({ probe: NO_ADAPTER });
    h.handle({ ...(loadRequest(1) as LoadRequest), source: undefined, model: { ...loadModelOf(PHI2), name: 'Big GPU model' } });
    const load = await h.finished(1);
    expect(load.at(-1)).toMatchObject({ type: 'error', message: 'Big GPU model runs only on the GPU, and it cannot run here: WebGPU found no graphics adapter.' });
  });

  it('falls back to the CPU when the WebLLM load fails, freeing the GPU engine and passing on what failed', async () => {
    const gpu = scriptedEngine([], { failLoad: new ExplainedError('Could not download http://localhost/webllm/x.json.', new Error('Failed to store …')) });
    const cpu = scriptedEngine([]);
    const h = harness({ gpu: [gpu], cpu: [cpu], probe: SWIFTSHADER });
    h.handle(loadRequest(1));
    const load = await h.finished(1);
    const gpuFailure = { tried: 'phi-2 q4f32 (no shader-f16 on this adapter)', message: 'Could not download http://localhost/webllm/x.json.', detail: expect.stringContaining('Failed to store') };
    expect(load.map((r) => r.type)).toEqual(['attempt', 'progress', 'attempt', 'progress', 'loaded']);
    expect(load[2]).toEqual({ id: 1, type: 'attempt', attempt: { engine: 'transformers.js', reason: 'the GPU model did not load', gpuFailure } });
    expect(load.at(-1)).toEqual({ id: 1, type: 'loaded', info: WASM_INFO, reason: 'the GPU model did not load', gpuFailure });
    expect(gpu.calls.unload).toBe(1);
  });

  it('with the GPU forced, a failed WebLLM load is an error and the CPU engine is never made', async () => {
    const gpu = scriptedEngine([], { failLoad: new ExplainedError('The GPU ran out of memory.') });
    const h = harness({ gpu: [gpu], probe: SWIFTSHADER });
    h.handle(loadRequest(1, 'webgpu'));
    const load = await h.finished(1);
    expect(load.at(-1)).toMatchObject({
      type: 'error',
      message: 'phi-2 q4f32 did not load on the GPU: The GPU ran out of memory. Choose Auto or CPU (WASM) to run it on the CPU.',
    });
    expect(h.made.cpu).toBe(0);
  });

  it('with the GPU forced and no WebGPU, says why without loading anything', async () => {
    const h = harness({ probe: { status: 'no-webgpu' } });
    h.handle(loadRequest(1, 'webgpu'));
    expect(await h.finished(1)).toEqual([
      { id: 1, type: 'error', message: 'phi-2 cannot run on the GPU here: this browser has no WebGPU. Choose Auto or CPU (WASM) to run it on the CPU.' },
    ]);
  });

  it('with the CPU forced, neither probes the GPU nor makes a WebLLM engine', async () => {
    const h = harness({ cpu: [scriptedEngine([])], probe: SWIFTSHADER });
    h.handle(loadRequest(1, 'wasm'));
    expect((await h.finished(1)).at(-1)).toMatchObject({ type: 'loaded', reason: 'CPU forced in settings' });
    expect(h.made).toEqual({ cpu: 1, gpu: 0, probes: 0 });
  });

  it('a device lost mid-reply keeps the streamed text, frees the engine, and Auto gives the GPU one more chance', async () => {
    const tokens = [' one', ' two', ' three', ' four'];
    const first = scriptedEngine(tokens, { info: GPU_INFO, loseDeviceAfter: 2 });
    const second = scriptedEngine(tokens, { info: GPU_INFO, loseDeviceAfter: 1 });
    const cpu = scriptedEngine(tokens);
    const h = harness({ gpu: [first, second], cpu: [cpu], probe: SWIFTSHADER });

    h.handle(loadRequest(1));
    h.handle(chatRequest(2, 'hello'));
    const chat = await h.finished(2);
    expect(chat.filter((r) => r.type === 'token').map((r) => (r as { text: string }).text).join('')).toBe('one two');
    expect(chat.at(-1)).toMatchObject({ type: 'error', deviceLost: true, message: expect.stringContaining('GPU stopped responding') });
    expect(first.calls.unload).toBe(1);

    h.handle(chatRequest(3, 'again'));
    expect((await h.finished(3)).at(-1)).toMatchObject({ type: 'error', message: expect.stringContaining('No model') });

    h.handle(loadRequest(4));
    expect((await h.finished(4)).at(-1)).toMatchObject({ type: 'loaded', info: GPU_INFO });
    h.handle(chatRequest(5, 'hello'));
    expect((await h.finished(5)).at(-1)).toMatchObject({ type: 'error', deviceLost: true });

    h.handle(loadRequest(6));
    expect((await h.finished(6)).at(-1)).toMatchObject({ type: 'loaded', info: WASM_INFO, reason: 'the GPU was lost 2 times in this session' });
    h.handle(chatRequest(7, 'hello'));
    expect((await h.finished(7)).at(-1)).toMatchObject({ type: 'done', stopReason: 'end' });
  });

  it('two quick model switches cancel the first load and never leave two engines loaded', async () => {
    const ledger = new Ledger();
    // WebLLM stops loading when told to; transformers.js cannot, so its load is unloaded once it ends.
    const gpu = scriptedEngine([], { info: GPU_INFO, loadMs: 200, honoursAbort: true, ledger });
    const cpuSlow = scriptedEngine([], { loadMs: 30, ledger });
    const cpuLast = scriptedEngine([], { loadMs: 5, ledger });
    const h = harness({ gpu: [gpu], cpu: [cpuSlow, cpuLast], probe: SWIFTSHADER });

    h.handle(loadRequest(1, 'auto'));
    while (gpu.calls.load === 0) await tick();
    h.handle(loadRequest(2, 'wasm'));
    while (cpuSlow.calls.load === 0) await tick();
    h.handle(loadRequest(3, 'wasm', { ...SOURCE, id: 'http://localhost/other/' }));

    expect((await h.finished(1)).at(-1)).toMatchObject({ type: 'error', message: 'Cancelled: another model was asked for.' });
    expect((await h.finished(2)).at(-1)).toMatchObject({ type: 'error', message: 'Cancelled: another model was asked for.' });
    expect((await h.finished(3)).at(-1)).toMatchObject({ type: 'loaded', info: WASM_INFO });
    expect(gpu.calls.unload).toBe(1);
    expect(cpuSlow.calls.unload).toBe(1);
    expect(ledger).toMatchObject({ loaded: 1, mostAtOnce: 1 });
    // The cancelled GPU load did not fall back to the CPU on its own.
    expect(h.made.cpu).toBe(2);
  });

  it('cancels a load still waiting in the queue without starting it', async () => {
    const cpu = scriptedEngine([], { loadMs: 20 });
    const last = scriptedEngine([]);
    const h = harness({ cpu: [cpu, last] });
    h.handle(loadRequest(1, 'wasm'));
    h.handle(chatRequest(2, 'queued behind the load'));
    while (cpu.calls.load === 0) await tick();
    h.handle(loadRequest(3, 'wasm', { ...SOURCE, id: 'http://localhost/a/' }));
    h.handle(loadRequest(4, 'wasm', { ...SOURCE, id: 'http://localhost/b/' }));
    expect(await h.finished(3)).toEqual([{ id: 3, type: 'error', message: 'Cancelled: another model was asked for.' }]);
    expect((await h.finished(4)).at(-1)).toMatchObject({ type: 'loaded' });
    expect((await h.finished(1)).at(-1)).toMatchObject({ type: 'error', message: 'Cancelled: another model was asked for.' });
    expect(cpu.calls.unload).toBe(1);
    expect(h.made.cpu).toBe(2);
  });
});
