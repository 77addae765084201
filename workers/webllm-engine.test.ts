import type { MLCEngine, MLCEngineConfig } from '@mlc-ai/web-llm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultChatSettings } from './defaults';
import { GpuDeviceLostError, LoadCancelledError } from './errors';
import { createHandler } from './handler';
import type { Request, Response } from './protocol';
import { WebLLMEngine } from './webllm-engine';
import type { WebLLMModel } from './webllm-models';
import { loadModelOf, PHI2 } from '../src/lib/model-catalog';

const MIRROR = 'https://mirror.test/';
const MODEL: WebLLMModel = { variant: PHI2.gpu!.variants.find((v) => v.id === 'phi-2-q4f32_1-MLC')!, source: { weightsBaseUrl: MIRROR, libBaseUrl: MIRROR } };
const SHARDS = 8;

const tick = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));

/** The network as WebLLM's fetches meet it: every request is recorded, and honours its signal. */
class Network {
  readonly requests: string[] = [];
  onResponse: (url: string) => void = () => undefined;
  readonly fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<globalThis.Response> => {
    const url = String(input);
    const signal = init?.signal;
    return new Promise((resolve, reject) => {
      const fail = () => reject(new DOMException('The operation was aborted.', 'AbortError'));
      // A fetch whose signal is already aborted never reaches the network.
      if (signal?.aborted) return fail();
      this.requests.push(url);
      signal?.addEventListener('abort', fail, { once: true });
      setTimeout(() => {
        signal?.removeEventListener('abort', fail);
        resolve(new globalThis.Response(url.endsWith('.json') ? '{}' : 'bytes'));
        this.onResponse(url);
      }, 2);
    });
  };
}

/** A WebGPU device that the test can lose. */
class Device {
  private lose!: (info: { reason: string; message: string }) => void;
  readonly lost = new Promise<{ reason: string; message: string }>((resolve) => (this.lose = resolve));
  loseNow() {
    this.lose({ reason: 'unknown', message: 'the driver was reset' });
  }
}

class Adapter {
  static devices: Device[] = [];
  readonly info = { vendor: 'google', architecture: 'swiftshader', description: '' };
  async requestDevice() {
    const device = new Device();
    Adapter.devices.push(device);
    return device;
  }
}

/** An embind object: using it after `dispose()` throws as @mlc-ai/web-tokenizers does. */
class Tokenizer {
  private disposed = false;
  encode(text: string) {
    if (this.disposed) throw new Error('Cannot pass deleted object as a pointer of type Tokenizer*');
    return Int32Array.from(text.split(' ').map((word) => word.length));
  }
  decode(ids: Int32Array) {
    return [...ids].join(' ');
  }
  dispose() {
    this.disposed = true;
  }
}

/**
 * MLCEngine's loading and unloading as @mlc-ai/web-llm 0.2.86 does them (lib/index.js): `reload`
 * makes `reloadController` and drops it when done (18194–18208); `reloadInternal` reads its signal
 * afresh for the config and the model library, fetches the tokenizer without one, and hands one
 * signal, read once, to four parallel shard downloads (18212–18313, 8248–8255); each download is
 * rewrapped as "Failed to store" (6736); `unload` disposes the pipeline, then aborts and drops the
 * controller (18345–18365); and its own `device.lost` handler unloads (18303–18308).
 */
class ScriptedWebLLM {
  reloadController?: AbortController;
  private pipeline?: { tokenizer: Tokenizer };
  private deviceLostIsError = true;

  async reload(modelId: string) {
    await this.unload();
    this.reloadController = new AbortController();
    try {
      await this.reloadInternal(modelId);
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') return;
      throw error;
    } finally {
      this.reloadController = undefined;
    }
  }

  private async reloadInternal(modelId: string) {
    const model = `${MIRROR}${modelId}/resolve/main/`;
    await this.addToCache(`${model}mlc-chat-config.json`, this.reloadController?.signal);
    await this.addToCache(`${MIRROR}phi-2-q4f32_1_cs1k-webgpu.wasm`, this.reloadController?.signal);
    const device = await (new Adapter() as unknown as GPUAdapter).requestDevice();
    void device.lost.then(() => {
      if (this.deviceLostIsError) void this.unload();
    });
    await this.addToCache(`${model}tokenizer.json`);
    const signal = this.reloadController?.signal;
    const loop = async (first: number) => {
      for (let shard = first; shard < first + SHARDS / 4; shard++) await this.addToCache(`${model}params_shard_${shard}.bin`, signal);
    };
    await Promise.all([0, 2, 4, 6].map(loop));
    this.pipeline = { tokenizer: new Tokenizer() };
  }

  private async addToCache(url: string, signal?: AbortSignal) {
    try {
      const response = await fetch(url, signal ? { signal } : undefined);
      await response.arrayBuffer();
      await tick(); // the IndexedDB write
    } catch (error) {
      throw Error(`Failed to store ${url} with error: ${error}`);
    }
  }

  getLLMStates(requestName: string) {
    if (!this.pipeline) throw new Error(`Model not loaded before trying to complete ${requestName}.`);
    return ['phi-2-q4f32_1-MLC', this.pipeline, {}];
  }

  async unload() {
    this.deviceLostIsError = false;
    this.pipeline?.tokenizer.dispose();
    this.pipeline = undefined;
    this.deviceLostIsError = true;
    if (this.reloadController) {
      this.reloadController.abort('Engine.unload() is called.');
      this.reloadController = undefined;
    }
  }

  async interruptGenerate() {}

  /** One step whose top tokens are the biased ones, each with a log-probability told by its id. */
  readonly completions = {
    create: async ({ logit_bias }: { logit_bias: Record<string, number> }) => ({
      choices: [{ logprobs: { content: [{ top_logprobs: Object.keys(logit_bias).map((id) => ({ token: this.pipeline!.tokenizer.decode(Int32Array.of(Number(id))), logprob: -Number(id) })) }] } }],
    }),
  };
}

let network: Network;
const scriptedWebLLM = () => new WebLLMEngine((_config: MLCEngineConfig) => new ScriptedWebLLM() as unknown as MLCEngine);

beforeEach(() => {
  network = new Network();
  Adapter.devices = [];
  vi.stubGlobal('fetch', network.fetch);
  vi.stubGlobal('GPUAdapter', Adapter);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('WebLLM engine, on a scripted MLCEngine', () => {
  it('loads, names the adapter from its info, and counts tokens', async () => {
    const engine = scriptedWebLLM();
    const info = await engine.load(MODEL, () => undefined, new AbortController().signal);
    expect(info).toMatchObject({ engine: 'webllm', adapter: 'google swiftshader' });
    expect(engine.countTokens('three words here')).toBe(3);
    expect(network.requests).toHaveLength(3 + SHARDS);
  });

  it("renders prompts in the variant's conversation template, and phi-2's as plain text", async () => {
    const engine = scriptedWebLLM();
    await engine.load(MODEL, () => undefined, new AbortController().signal);
    expect(engine.promptFormat()).toEqual({ kind: 'plain' });
    await engine.load({ ...MODEL, variant: { ...MODEL.variant, chatFormat: 'llama3' } }, () => undefined, new AbortController().signal);
    const format = engine.promptFormat();
    expect(format.kind === 'chat' && format.render([{ role: 'user', content: 'hi' }])).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    await engine.unload();
    expect(engine.promptFormat()).toEqual({ kind: 'plain' });
  });

  it('scores each label by its token after the prompt, which a tokenizer may spell otherwise at the start of a text', async () => {
    const engine = scriptedWebLLM();
    await engine.load(MODEL, () => undefined, new AbortController().signal);
    // This tokenizer gives a word's length per word: alone, " joke" is two tokens (an empty word first).
    expect(engine.countTokens(' joke')).toBe(2);
    expect(await engine.scoreContinuations('The category is', [' joke', ' sales', ' support'])).toEqual([-4, -5, -7]);
  });

  it('after the device is lost while idle, reports the loss instead of using the disposed tokenizer', async () => {
    const engine = scriptedWebLLM();
    await engine.load(MODEL, () => undefined, new AbortController().signal);
    Adapter.devices.at(-1)!.loseNow();
    await tick();
    expect(() => engine.countTokens('hello')).toThrow(GpuDeviceLostError);
    await expect(engine.scoreContinuations('prompt', [' support'])).rejects.toThrow(GpuDeviceLostError);
  });

  it.each([
    ['between the config and the model library', 'mlc-chat-config.json'],
    ['during the shard downloads', 'params_shard_0.bin'],
  ])('a cancel %s stops every download', async (_, cancelAfter) => {
    const engine = scriptedWebLLM();
    const cancel = new AbortController();
    let requestsAtCancel = -1;
    network.onResponse = (url) => {
      if (!url.endsWith(cancelAfter) || cancel.signal.aborted) return;
      requestsAtCancel = network.requests.length;
      cancel.abort();
    };
    await expect(engine.load(MODEL, () => undefined, cancel.signal)).rejects.toThrow(LoadCancelledError);
    await engine.unload();
    // Long enough for any download still going to be asked for.
    await tick(50);
    expect(requestsAtCancel).toBeGreaterThan(0);
    expect(network.requests.slice(requestsAtCancel)).toEqual([]);
  });
});

describe('the handler, with WebLLM on a scripted MLCEngine', () => {
  it('treats a device lost while idle as a loss: the message says so and the next load runs on the GPU again', async () => {
    const responses: Response[] = [];
    const engines: WebLLMEngine[] = [];
    const handle = createHandler(
      {
        engines: {
          transformers: () => {
            throw new Error('the CPU engine is not expected here');
          },
          webllm: async () => {
            engines.push(scriptedWebLLM());
            return engines.at(-1)!;
          },
        },
        probeGpu: async () => ({
          status: 'adapter',
          adapter: {
            name: 'google swiftshader',
            features: [],
            limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30, maxComputeWorkgroupStorageSize: 32768, maxStorageBuffersPerShaderStage: 10 },
          },
        }),
      },
      (response) => responses.push(response),
    );
    const finished = async (id: number) => {
      while (!responses.some((r) => r.id === id && (r.type === 'loaded' || r.type === 'done' || r.type === 'error'))) await tick();
      return responses.filter((r) => r.id === id).at(-1)!;
    };
    const load = (id: number): Request => ({
      id,
      type: 'load',
      model: loadModelOf(PHI2),
      source: { id: 'http://localhost/m/', dtype: 'fp32', file: 'model', externalData: false },
      gpuSource: { weightsBaseUrl: MIRROR, libBaseUrl: MIRROR },
      preference: 'auto',
    });

    handle(load(1));
    expect(await finished(1)).toMatchObject({ type: 'loaded', info: { engine: 'webllm' } });
    Adapter.devices.at(-1)!.loseNow();
    await tick();

    handle({ id: 2, type: 'chat', history: [], message: 'hello', settings: defaultChatSettings(), intent: 'auto' });
    expect(await finished(2)).toMatchObject({ type: 'error', deviceLost: true, message: expect.stringContaining('GPU stopped responding') });
    handle(load(3));
    expect(await finished(3)).toMatchObject({ type: 'loaded', info: { engine: 'webllm' } });
    expect(engines).toHaveLength(2);
  });
});
