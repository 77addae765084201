import { MLCEngine, type MLCEngineConfig } from '@mlc-ai/web-llm';
import type { Engine, GenerationEnd, GenerationParams } from './engine';
import { ExplainedError, GpuDeviceLostError, LoadCancelledError } from './errors';
import { adapterName, readAdapterInfo, type AdapterInfoLike } from './gpu-probe';
import { builtInChatFormat, PLAIN_FORMAT, type PromptFormat } from './prompt-format';
import type { FileProgress, WebGpuEngineInfo } from './protocol';
import { explainWebLLMError } from './webllm-errors';
import { webllmModelRecord, type WebLLMModel } from './webllm-models';
import { webllmProgressTracker } from './webllm-progress';
import { withCancellableFetches } from './webllm-reload';

/** The tokenizer of WebLLM's loaded pipeline (from @mlc-ai/web-tokenizers). */
interface PipelineTokenizer {
  encode(text: string): Int32Array;
  decode(ids: Int32Array): string;
}

/**
 * MLCEngine keeps its tokenizer private, yet the prompt budget needs token counts and label scoring
 * needs token ids. Reading it off the loaded pipeline is why package.json pins the exact version.
 */
function pipelineTokenizer(mlc: MLCEngine): PipelineTokenizer {
  const internals = mlc as unknown as { getLLMStates?(request: string): [string, { tokenizer?: PipelineTokenizer }, unknown] };
  const tokenizer = internals.getLLMStates?.('countTokens')[1].tokenizer;
  if (typeof tokenizer?.encode !== 'function') {
    throw new Error('This WebLLM version does not expose its tokenizer; the app expects @mlc-ai/web-llm 0.2.86.');
  }
  return tokenizer;
}

/**
 * WebLLM creates its GPUDevice inside `reload()` and keeps it to itself, yet `device.lost` is the
 * one dependable sign that the GPU is gone. So the devices requested while `run` runs are caught;
 * loads never overlap (the worker runs one request at a time), so no other caller is affected.
 */
async function captureDevices(run: () => Promise<void>): Promise<{ device: GPUDevice; adapter: GPUAdapter }[]> {
  const devices: { device: GPUDevice; adapter: GPUAdapter }[] = [];
  if (typeof GPUAdapter === 'undefined') {
    await run();
    return devices;
  }
  const adapterPrototype = GPUAdapter.prototype;
  const requestDevice = adapterPrototype.requestDevice;
  adapterPrototype.requestDevice = async function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor) {
    const device = await requestDevice.call(this, descriptor);
    devices.push({ device, adapter: this });
    return device;
  };
  try {
    await run();
    return devices;
  } finally {
    adapterPrototype.requestDevice = requestDevice;
  }
}

/** WebLLM's largest logit bias: enough to rank the labels above every other token. */
const LABEL_BIAS = 100;
/** WebLLM returns at most this many alternatives for a token. */
const MAX_TOP_LOGPROBS = 5;

/** phi-2 on WebGPU through WebLLM's MLCEngine, run directly in our worker. */
export class WebLLMEngine implements Engine<WebLLMModel> {
  private mlc: MLCEngine | null = null;
  private tokenizer: PipelineTokenizer | null = null;
  /** Set when the GPU device was lost; from then on every call fails with GpuDeviceLostError. */
  private deviceLost: string | null = null;
  private unloading = false;
  private format: PromptFormat = PLAIN_FORMAT;

  /** `MLCEngine` itself in the app; the tests hand in a scripted stand-in. */
  constructor(private readonly createMlc: (config: MLCEngineConfig) => MLCEngine = (config) => new MLCEngine(config)) {}

  async load({ variant, source }: WebLLMModel, onProgress: (files: FileProgress[], stage?: string) => void, signal?: AbortSignal): Promise<WebGpuEngineInfo> {
    if (signal?.aborted) throw new LoadCancelledError();
    const track = webllmProgressTracker(`${variant.weights} weights`);
    const mlc = this.createMlc({
      appConfig: { model_list: [webllmModelRecord(variant, source)], cacheBackend: 'indexeddb' },
      initProgressCallback: (report) => {
        const { files, stage } = track(report);
        onProgress(files, stage);
      },
    });
    this.mlc = mlc;
    onProgress([], `Fetching ${variant.id} for the GPU`);
    // A cancel makes every fetch of the reload fail; reload() then throws (for IndexedDB, WebLLM
    // rewraps the abort as `Error("Failed to store …")`, lib/index.js 6736) or, for an abort it
    // sees as such, returns early (18201). Either way the signal says it was a cancel.
    let devices: { device: GPUDevice; adapter: GPUAdapter }[];
    try {
      const reload = () => captureDevices(() => mlc.reload(variant.id));
      devices = await (signal ? withCancellableFetches(signal, mlc, reload) : reload());
    } catch (error) {
      if (signal?.aborted) throw new LoadCancelledError();
      throw new ExplainedError(explainWebLLMError(error), error);
    }
    if (signal?.aborted) throw new LoadCancelledError();
    const { device, adapter } = devices.at(-1) ?? {};
    void device?.lost.then((info) => {
      if (this.unloading) return;
      this.deviceLost = `GPUDevice lost (${info.reason}): ${info.message}`;
      void mlc.interruptGenerate();
    });
    this.tokenizer = pipelineTokenizer(mlc);
    this.format = variant.chatFormat ? builtInChatFormat(variant.chatFormat) : PLAIN_FORMAT;
    return {
      engine: 'webllm',
      device: 'webgpu',
      model: variant.id,
      quantization: variant.quantization,
      contextSize: variant.contextSize,
      adapter: device ? adapterName(await deviceAdapterInfo(device, adapter)) : 'unknown adapter',
    };
  }

  promptFormat(): PromptFormat {
    return this.format;
  }

  countTokens(text: string): number {
    return this.ready().tokenizer.encode(text).length;
  }

  /**
   * One decode step with every label's token raised by the same large bias, so the step's top
   * log-probabilities are exactly the labels', shifted by one shared constant. Only one-token
   * labels can be scored this way (phi-2's " support", " sales" and " joke" are); a longer label is
   * refused rather than scored on its first token alone.
   */
  async scoreContinuations(prompt: string, continuations: readonly string[]): Promise<number[]> {
    const { mlc, tokenizer } = this.ready();
    const promptIds = tokenizer.encode(prompt);
    const tokens = continuations.map((text) => {
      const ids = continuationIds(tokenizer, promptIds, prompt, text);
      if (ids.length !== 1) throw new Error(`WebLLM scores one-token labels only, and "${text}" is ${ids.length} tokens for this model.`);
      return ids[0];
    });
    if (new Set(tokens).size !== tokens.length || tokens.length > MAX_TOP_LOGPROBS) {
      throw new Error(`WebLLM can score up to ${MAX_TOP_LOGPROBS} distinct one-token labels; got ${JSON.stringify(continuations)}.`);
    }
    const completion = await this.call(() =>
      mlc.completions.create({
        prompt,
        max_tokens: 1,
        // The log-probabilities must come from the model's plain distribution.
        temperature: 1,
        top_p: 1,
        repetition_penalty: 1,
        frequency_penalty: 0,
        presence_penalty: 0,
        logit_bias: Object.fromEntries(tokens.map((id) => [String(id), LABEL_BIAS])),
        logprobs: true,
        top_logprobs: MAX_TOP_LOGPROBS,
      }),
    );
    const top = completion.choices[0]?.logprobs?.content?.[0]?.top_logprobs ?? [];
    const logprobOf = new Map(top.map((entry) => [entry.token, entry.logprob]));
    // A label missing from the top five was outranked by other tokens despite the bias: its
    // probability is below what a float can tell from zero.
    return tokens.map((id) => logprobOf.get(tokenizer.decode(Int32Array.of(id))) ?? -Infinity);
  }

  /** Streams a raw completion of our own prompt (not WebLLM's chat template). WebLLM has no top-k; top-p does that job. */
  async generate(prompt: string, params: GenerationParams, onText: (text: string) => boolean, signal: AbortSignal): Promise<GenerationEnd> {
    const { mlc } = this.ready();
    if (signal.aborted) return 'stopped';
    const interrupt = () => void mlc.interruptGenerate();
    signal.addEventListener('abort', interrupt);
    let stoppedByCaller = false;
    let finishReason: string | null = null;
    try {
      await this.call(async () => {
        const stream = await mlc.completions.create({
          prompt,
          stream: true,
          max_tokens: params.maxNewTokens,
          temperature: params.temperature,
          top_p: params.topP,
          repetition_penalty: params.repetitionPenalty,
        });
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          if (!choice) continue;
          // A Stop that came before the stream started was reset by it; raise it again.
          if (signal.aborted || this.deviceLost) interrupt();
          else if (choice.text && !stoppedByCaller && !onText(choice.text)) {
            stoppedByCaller = true;
            interrupt();
          }
          finishReason = choice.finish_reason ?? finishReason;
        }
      });
    } finally {
      signal.removeEventListener('abort', interrupt);
    }
    if (this.deviceLost) throw new GpuDeviceLostError(this.deviceLost);
    if (signal.aborted || stoppedByCaller) return 'stopped';
    return finishReason === 'length' ? 'length' : 'end';
  }

  async unload(): Promise<void> {
    this.unloading = true;
    const mlc = this.mlc;
    this.mlc = null;
    this.tokenizer = null;
    this.format = PLAIN_FORMAT;
    // After a loss WebLLM is already unloading itself, and waiting on a dead device could hang.
    if (this.deviceLost) void mlc?.unload().catch(() => undefined);
    else await mlc?.unload();
  }

  /** Runs a WebLLM call, turning its errors into sentences, and any error after a lost device into that loss. */
  private async call<T>(run: () => Promise<T>): Promise<T> {
    if (this.deviceLost) throw new GpuDeviceLostError(this.deviceLost);
    try {
      return await run();
    } catch (error) {
      if (this.deviceLost) throw new GpuDeviceLostError(error);
      throw new ExplainedError(explainWebLLMError(error), error);
    }
  }

  /**
   * On a lost device WebLLM unloads itself (lib/index.js 18303–18308), disposing the tokenizer we
   * hold (11986): from then on only a reload helps, so that is what the caller is told.
   */
  private ready() {
    if (this.deviceLost) throw new GpuDeviceLostError(this.deviceLost);
    if (!this.mlc || !this.tokenizer) throw new Error('No model is loaded.');
    return { mlc: this.mlc, tokenizer: this.tokenizer };
  }
}

/**
 * A label's ids as they follow the prompt: encoded with it, since a tokenizer may spell a word
 * differently at the start of a text (Phi-3's SentencePiece one adds a word-start mark there).
 */
function continuationIds(tokenizer: PipelineTokenizer, promptIds: Int32Array, prompt: string, text: string): Int32Array {
  const whole = tokenizer.encode(prompt + text);
  const agrees = whole.length > promptIds.length && promptIds.every((id, i) => whole[i] === id);
  return agrees ? whole.slice(promptIds.length) : tokenizer.encode(text);
}

/** `GPUDevice.adapterInfo` is newer than `GPUAdapter.info` (Chromium 131 against 127); either may be missing. */
async function deviceAdapterInfo(device: GPUDevice, adapter: GPUAdapter | undefined): Promise<AdapterInfoLike> {
  const own = (device as GPUDevice & { adapterInfo?: AdapterInfoLike }).adapterInfo;
  return own ?? (adapter ? await readAdapterInfo(adapter) : {});
}
