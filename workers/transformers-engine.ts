import {
  AutoModelForCausalLM,
  AutoTokenizer,
  BaseStreamer,
  env,
  InterruptableStoppingCriteria,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { Engine, GenerationEnd, GenerationParams } from './engine';
import { ModelFileError } from './errors';
import { logSoftmaxAt } from './labels';
import type { EngineInfo, FileProgress, ModelSource, WasmEngineInfo } from './protocol';
import { IncrementalDecoder } from './text-decoder';
import { WeightsCache } from './weights-cache';

const HUB = 'https://huggingface.co/';
const HUB_PATH = '{model}/resolve/{revision}/';
/**
 * transformers.js wants a hub-style id even for a plain folder URL, and memoizes loads by it, so
 * each folder gets an id of its own (an FNV-1a hash of its URL).
 */
function folderModelId(url: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < url.length; i++) hash = Math.imul(hash ^ url.charCodeAt(i), 0x01000193) >>> 0;
  return `folder/${hash.toString(16)}`;
}

const DTYPE_SUFFIX: Record<ModelSource['dtype'], string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  q4: '_q4',
  q4f16: '_q4f16',
};

/**
 * onnxruntime threads need cross-origin isolation (SharedArrayBuffer); otherwise it runs on one.
 * `requested` is the benchmark's override; the app leaves it to this rule.
 */
function threadCount(requested?: number): number {
  if (!self.crossOriginIsolated) return 1;
  return requested ?? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1));
}

/**
 * Where onnxruntime runs: 'wasm' (onnxruntime-web) in the browser, the app's only target; 'cpu'
 * (onnxruntime-node) lets the Node tests drive this same engine on the real runtime.
 */
export type EngineDevice = 'wasm' | 'cpu';

/** The URL every file of the model is downloaded from, which is also the prefix of its cache keys. */
function modelFolderUrl(source: ModelSource): string {
  if (isFolderUrl(source.id)) return new URL(source.id.endsWith('/') ? source.id : `${source.id}/`).href;
  return `${HUB}${HUB_PATH.replace('{model}', source.id).replace('{revision}', 'main')}`;
}

/** `cache` keeps the weights in IndexedDB; Node (the tests) has none and goes without. */
function configureRuntime(source: ModelSource, device: EngineDevice, cache: WeightsCache | null, threads?: number) {
  const onnx = env.backends.onnx;
  // The wasm settings read `self.location`, `self.crossOriginIsolated` and `navigator`, which Node
  // lacks; onnxruntime-node ignores them anyway.
  if (device === 'wasm' && onnx.wasm) {
    // Served by the app itself: a CDN would break offline use and leak a request.
    onnx.wasm.wasmPaths = { mjs: new URL(ortMjsUrl, self.location.href).href, wasm: new URL(ortWasmUrl, self.location.href).href };
    onnx.wasm.numThreads = threadCount(threads);
  }
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
  env.useBrowserCache = false;
  env.useCustomCache = cache !== null;
  env.customCache = cache;
  if (isFolderUrl(source.id)) {
    // transformers.js joins host, template and file name; a folder URL splits into the first two.
    const folder = new URL(modelFolderUrl(source));
    env.remoteHost = folder.origin;
    // A folder at the server's root would leave an empty template, and transformers.js would then
    // request `origin//file`; '.' keeps the join well-formed and URL parsing drops it again.
    env.remotePathTemplate = folder.pathname.slice(1) || '.';
  } else {
    env.remoteHost = HUB;
    env.remotePathTemplate = HUB_PATH;
  }
}

export function isFolderUrl(id: string): boolean {
  return /^https?:\/\//i.test(id);
}

/** Yields to the worker's event loop, so a Stop message is handled between two forward passes. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

interface ProgressEvent {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
}

export class TransformersEngine implements Engine {
  private tokenizer: PreTrainedTokenizer | null = null;
  private model: PreTrainedModel | null = null;
  private readonly device: EngineDevice;
  private readonly threads?: number;

  /** `threads` fixes onnxruntime's thread count, for the benchmark's comparisons; unset, the engine picks. */
  constructor({ device = 'wasm', threads }: { device?: EngineDevice; threads?: number } = {}) {
    this.device = device;
    this.threads = threads;
  }

  async load(source: ModelSource, onProgress: (files: FileProgress[]) => void): Promise<EngineInfo> {
    const cache = this.device === 'wasm' ? new WeightsCache({ model: source.id, folder: modelFolderUrl(source) }) : null;
    configureRuntime(source, this.device, cache, this.threads);
    // transformers.js treats some missing files as optional and then fails elsewhere; recording
    // every failed download lets the error name the file that was really missing.
    const failedDownloads: string[] = [];
    env.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      try {
        const response = await fetch(input, init);
        if (!response.ok) failedDownloads.push(`${url} (HTTP ${response.status})`);
        return response;
      } catch (error) {
        failedDownloads.push(`${url} (network error)`);
        throw error;
      }
    };
    const modelId = isFolderUrl(source.id) ? folderModelId(source.id) : source.id;
    const files = new Map<string, FileProgress>();
    const progress_callback = (event: ProgressEvent) => {
      if (!event.file) return;
      const entry = files.get(event.file) ?? { file: event.file, loaded: 0, total: 0, done: false };
      if (event.status === 'progress') {
        entry.loaded = event.loaded ?? entry.loaded;
        entry.total = event.total ?? entry.total;
      } else if (event.status === 'done') {
        entry.done = true;
        entry.loaded = Math.max(entry.loaded, entry.total);
      }
      files.set(event.file, entry);
      onProgress([...files.values()].map((f) => ({ ...f })));
    };
    // Name the file that failed: a failed download first, else the file being read at the time.
    const failure = (error: unknown, fallback: string) => {
      const pending = [...files.values()].find((f) => !f.done)?.file;
      return new ModelFileError(failedDownloads[0] ?? pending ?? fallback, error);
    };

    try {
      this.tokenizer = await AutoTokenizer.from_pretrained(modelId, { progress_callback });
    } catch (error) {
      await cache?.discardWritten();
      throw failure(error, 'tokenizer.json');
    }
    const onnxFile = `onnx/${source.file}${DTYPE_SUFFIX[source.dtype]}.onnx`;
    try {
      this.model = await AutoModelForCausalLM.from_pretrained(modelId, {
        dtype: source.dtype,
        device: this.device,
        model_file_name: source.file,
        use_external_data_format: source.externalData,
        // onnxruntime-node's own default uses every core; the benchmark compares at equal threads.
        ...(this.device === 'cpu' && this.threads ? { session_options: { intraOpNumThreads: this.threads, interOpNumThreads: 1 } } : {}),
        progress_callback,
      });
    } catch (error) {
      await cache?.discardWritten();
      throw failure(error, /json/i.test(String(error)) ? 'config.json' : onnxFile);
    }
    const config = this.model.config as unknown as { max_position_embeddings?: number; n_positions?: number };
    return {
      engine: 'transformers.js',
      // The protocol names only the browser's device; 'cpu' appears only in Node tests.
      device: this.device as WasmEngineInfo['device'],
      model: source.id,
      dtype: source.dtype,
      threads: env.backends.onnx.wasm?.numThreads ?? 1,
      contextSize: config.max_position_embeddings ?? config.n_positions ?? 2048,
      notCached: cache?.shortfall,
    };
  }

  countTokens(text: string): number {
    return this.ready().tokenizer.encode(text).length;
  }

  async scoreContinuations(prompt: string, continuations: readonly string[]): Promise<number[]> {
    const { tokenizer, model } = this.ready();
    const promptIds = tokenizer.encode(prompt);
    // One forward pass over the prompt scores every continuation's first token; only the tokens
    // after that need a pass of their own, on top of the prompt's KV cache.
    const prefix = (await model.forward(inputs(promptIds, 0))) as Record<string, Tensor>;
    const vocab = prefix.logits.dims.at(-1)!;
    const lastRow = (promptIds.length - 1) * vocab;
    const scores: number[] = [];
    for (const text of continuations) {
      const ids = tokenizer.encode(text);
      let score = logSoftmaxAt(prefix.logits.data as Float32Array, lastRow, vocab, ids[0]);
      if (ids.length > 1) {
        const rest = (await model.forward({
          ...inputs(ids.slice(0, -1), promptIds.length),
          past_key_values: pastFrom(prefix),
        })) as Record<string, Tensor>;
        const logits = rest.logits.data as Float32Array;
        for (let j = 1; j < ids.length; j++) score += logSoftmaxAt(logits, (j - 1) * vocab, vocab, ids[j]);
      }
      scores.push(score);
    }
    return scores;
  }

  async generate(
    prompt: string,
    params: GenerationParams,
    onText: (text: string) => boolean,
    signal: AbortSignal,
  ): Promise<GenerationEnd> {
    const { tokenizer, model } = this.ready();
    const promptIds = tokenizer.encode(prompt);
    const criteria = new InterruptableStoppingCriteria();
    const decoder = new IncrementalDecoder((ids) => tokenizer.decode(ids, { skip_special_tokens: true }));
    const generated: number[] = [];
    let stoppedByCaller = false;
    const streamer = new (class extends BaseStreamer {
      private seenPrompt = false;
      put(value: bigint[][]) {
        // The first call carries the prompt itself.
        if (!this.seenPrompt) {
          this.seenPrompt = true;
          return;
        }
        generated.push(...value[0].map(Number));
        // A token that was already being computed when Stop arrived is not shown.
        if (signal.aborted) {
          criteria.interrupt();
          return;
        }
        const text = decoder.next(generated);
        if (text && !onText(text)) {
          stoppedByCaller = true;
          criteria.interrupt();
        }
        if (signal.aborted) criteria.interrupt();
      }
      end() {}
    })();

    // transformers.js runs its whole decode loop without giving the event loop a turn; yielding
    // before each forward pass lets the worker receive Stop within one token.
    const forward = model.forward.bind(model);
    model.forward = async (modelInputs: Record<string, unknown>) => {
      await yieldToEventLoop();
      if (signal.aborted) criteria.interrupt();
      return forward(modelInputs);
    };
    try {
      await model.generate({
        ...inputs(promptIds, 0),
        max_new_tokens: params.maxNewTokens,
        do_sample: params.temperature > 0,
        temperature: params.temperature,
        top_k: params.topK,
        top_p: params.topP,
        repetition_penalty: params.repetitionPenalty,
        streamer,
        stopping_criteria: [criteria],
      } as unknown as Parameters<PreTrainedModel['generate']>[0]);
    } finally {
      model.forward = forward;
    }
    if (signal.aborted || stoppedByCaller) return 'stopped';
    const eos = model.generation_config?.eos_token_id ?? (model.config as unknown as { eos_token_id?: number }).eos_token_id;
    const eosIds = Array.isArray(eos) ? eos : [eos];
    return eosIds.includes(generated.at(-1)) ? 'end' : generated.length >= params.maxNewTokens ? 'length' : 'end';
  }

  async unload(): Promise<void> {
    await this.model?.dispose();
    this.model = null;
    this.tokenizer = null;
  }

  private ready() {
    if (!this.model || !this.tokenizer) throw new Error('No model is loaded.');
    return { model: this.model, tokenizer: this.tokenizer };
  }
}

/** Inputs for `ids` following `pastLength` tokens that are already in the KV cache. */
function inputs(ids: number[], pastLength: number) {
  const n = ids.length;
  return {
    input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, n]),
    attention_mask: new Tensor('int64', new BigInt64Array(pastLength + n).fill(1n), [1, pastLength + n]),
  };
}

/** The prompt's `present.*` outputs, renamed to the `past_key_values.*` inputs of the next pass. */
function pastFrom(outputs: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(
    Object.entries(outputs)
      .filter(([name]) => name.startsWith('present'))
      .map(([name, tensor]) => [name.replace('present', 'past_key_values'), tensor]),
  );
}
