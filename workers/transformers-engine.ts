import {
  AutoConfig,
  AutoModelForCausalLM,
  AutoTokenizer,
  env,
  type PretrainedConfig,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import type { Engine, GenerationEnd, GenerationParams, RequestOptions } from './engine';
import { ExplainedError, ModelFileError } from './errors';
import { commonPrefixLength, cropPast, disposePast, pastFrom, type KvCache, type PastKeyValues } from './kv-cache';
import { logSoftmaxAt } from './labels';
import { PLAIN_FORMAT, type ChatMessage, type PromptFormat } from './prompt-format';
import type { EngineInfo, FileProgress, ModelSource, PrefillCount, WasmEngineInfo } from './protocol';
import { sampleToken } from './sampling';
import { IncrementalDecoder } from './text-decoder';
import { dataFileNames, drain, readWhole, storedBytes } from './external-data';
import { heapContextLimit, kvBytesPerToken, PREFILL_CHUNK } from './heap-budget';
import { configExternalData, dataPath, onnxPath, probeFile, type Presence } from './model-files';
import { WeightsCache } from './weights-cache';
import { isLocalModel, localFolderUrl, localModelName } from './weights-store';

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

/**
 * onnxruntime threads need cross-origin isolation (SharedArrayBuffer); otherwise it runs on one.
 * Every core, at most four: at phi-2's width two threads decode 1.56× as fast as one on a 2-core
 * machine, UI included (npm run bench -- --shape phi-2-small); only the tiny test model, whose
 * passes are too short to share, is faster on one. `requested` is the benchmark's override.
 */
function threadCount(requested?: number): number {
  if (!self.crossOriginIsolated) return 1;
  return requested ?? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
}

/**
 * Where onnxruntime runs: 'wasm' (onnxruntime-web) in the browser, the app's only target; 'cpu'
 * (onnxruntime-node) lets the Node tests drive this same engine on the real runtime.
 */
export type EngineDevice = 'wasm' | 'cpu';

/**
 * The URL every file of the model is downloaded from, which is also the prefix of its stored
 * records; a folder from the user's disk has one under the app's origin that only the store answers.
 */
function modelFolderUrl(source: ModelSource): string {
  if (isLocalModel(source.id)) return localFolderUrl(localModelName(source.id), self.location.origin);
  if (isFolderUrl(source.id)) return new URL(source.id.endsWith('/') ? source.id : `${source.id}/`).href;
  return `${HUB}${HUB_PATH.replace('{model}', source.id).replace('{revision}', 'main')}`;
}

function configureRuntime(source: ModelSource, device: EngineDevice, threads?: number) {
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
  // The weights store sits in front of `env.fetch` instead (see WeightsCache): transformers.js's own
  // cache writing would hold every file once more, and fails silently past 2 GiB.
  env.useCustomCache = false;
  env.customCache = null;
  if (isFolderUrl(source.id) || isLocalModel(source.id)) {
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

/**
 * One external-data file of the model (`onnx/…`), through `env.fetch` (so from the weights store,
 * or stored as it downloads), its progress reported as transformers.js reports a file's. Handed to
 * onnxruntime as the stored file itself where it is stored (see external-data.ts), else whole.
 */
async function readDataFile(folder: string, file: string, cache: WeightsCache | null, progress: (event: ProgressEvent) => void): Promise<{ path: string; data: Uint8Array }> {
  const url = `${folder}${file}`;
  // onnxruntime matches it by the name the graph gives it, which has no folder.
  const path = file.slice(file.lastIndexOf('/') + 1);
  const onProgress = (loaded: number, total: number) => progress({ status: 'progress', file, loaded, total });
  const download = async () => {
    const response = await env.fetch(url);
    if (!response.ok || !response.body) throw new Error(`Could not download ${url} (HTTP ${response.status})`);
    return response;
  };
  progress({ status: 'initiate', file });
  let data: Uint8Array | null = null;
  let response: Response | null = null;
  if (cache && typeof FileReaderSync !== 'undefined') {
    let stored = await cache.storedFile(url);
    if (stored) onProgress(stored.size, stored.size);
    else {
      const downloading = await download();
      // Being stored as it downloads: keep nothing of it here, and read it from the store after.
      if (cache.isStoring(downloading)) {
        await drain(downloading, onProgress);
        stored = await cache.storedFile(url);
      } else response = downloading;
    }
    if (stored) data = storedBytes(stored);
  }
  // Not stored (no room for it, or the store filled up on the way: then a second download): the
  // whole file in memory.
  data ??= await readWhole(response ?? (await download()), onProgress);
  progress({ status: 'done', file });
  return { path, data };
}

export function isFolderUrl(id: string): boolean {
  return /^https?:\/\//i.test(id);
}

/**
 * How many external-data files the graph has, from `presence`, what a probe for its `.onnx_data`
 * file found: an explicit `externalData` (the `external=1` link) says at least one; else the
 * folder's own config.json decides where it says anything; else a data file that exists says one.
 * `missing`: the data file is needed and not there (transformers.js would wait for it forever: its
 * loader's rejection goes unhandled).
 */
export function externalDataFor(source: ModelSource, config: unknown, presence: Presence): { chunks: number; missing: boolean } {
  const fromConfig = configExternalData(config, source.file, source.dtype);
  const chunks = source.externalData ? Math.max(1, fromConfig ?? 1) : (fromConfig ?? (presence === 'present' ? 1 : 0));
  return { chunks, missing: chunks > 0 && presence === 'absent' };
}

/**
 * Yields to the worker's event loop, so a Stop message is handled between two forward passes.
 * Not with `setTimeout(0)`: browsers clamp a timer set from a timer's own turn to at least 4 ms
 * once nested five deep, as every pass of a decode loop is, which cost the tiny model over half its
 * speed. A message posted to ourselves runs as the next task, unclamped. Node (the tests, the eval
 * and the benchmark's native baseline) has `setImmediate`, which also keeps its process alive.
 */
const yieldToEventLoop: () => Promise<void> =
  typeof setImmediate === 'function' ? () => new Promise((resolve) => setImmediate(resolve)) : messageYield();

function messageYield(): () => Promise<void> {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  return () =>
    new Promise((resolve) => {
      waiting.push(resolve);
      channel.port2.postMessage(null);
    });
}

type CacheSlot = 'classify' | 'generate';

/** What a forward pass leaves: the logits after its last id, and the KV cache up to it. */
interface Step {
  logits: Float32Array;
  past: PastKeyValues;
}

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
  private readonly kvReuse: boolean;
  private readonly random: () => number;
  /**
   * One KV cache for the classification prompt and one for generation (replies and summaries):
   * the two prompts share no prefix, so a single cache would be overwritten by the other every turn.
   */
  private readonly caches = new Map<CacheSlot, KvCache>();
  private lastPrefill: PrefillCount = { cached: 0, computed: 0 };
  private format: PromptFormat = PLAIN_FORMAT;

  /**
   * `threads` fixes onnxruntime's thread count, for the benchmark's comparisons (unset, the engine
   * picks); `kvReuse: false` runs every prompt through the model whole; `random` seeds sampling in tests.
   */
  constructor({
    device = 'wasm',
    threads,
    kvReuse = true,
    random = Math.random,
  }: { device?: EngineDevice; threads?: number; kvReuse?: boolean; random?: () => number } = {}) {
    this.device = device;
    this.threads = threads;
    this.kvReuse = kvReuse;
    this.random = random;
  }

  async load(source: ModelSource, onProgress: (files: FileProgress[]) => void): Promise<EngineInfo> {
    for (const slot of [...this.caches.keys()]) this.dropCache(slot);
    const folder = modelFolderUrl(source);
    const local = isLocalModel(source.id);
    const cache = this.device === 'wasm' ? new WeightsCache({ model: source.id, folder, local }) : null;
    configureRuntime(source, this.device, this.threads);
    await cache?.begin();
    const fetchFile: typeof fetch = cache?.fetch ?? ((input, init) => fetch(input, init));
    // transformers.js treats some missing files as optional and then fails elsewhere; recording
    // every failed download lets the error name the file that was really missing.
    const failedDownloads: { url: string; why: string }[] = [];
    let rejectDataFailed: (error: Error) => void = () => {};
    const fail = (url: string, why: string) => {
      failedDownloads.push({ url, why });
      if (/\.onnx_data(_\d+)?$/.test(url)) rejectDataFailed(new Error(`Could not download ${url} (${why})`));
    };
    env.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      try {
        const response = await fetchFile(input, init);
        if (!response.ok) fail(url, `HTTP ${response.status}`);
        return response;
      } catch (error) {
        fail(url, 'network error');
        throw error;
      }
    };
    const modelId = isFolderUrl(source.id) || local ? folderModelId(folder) : source.id;
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
    const onnxFile = onnxPath(source.file, source.dtype);
    const where = local ? `the folder "${localModelName(source.id)}"` : 'the model folder';
    const missingWeights = (data: string) => `Missing weights file ${data}: ${onnxFile} keeps its weights in it, and ${where} has no such file.`;
    const relative = (url: string) => (url.startsWith(folder) ? url.slice(folder.length) : url);
    // Name the file that failed: a failed download first, else the file being read at the time.
    const failure = (error: unknown, fallback: string) => {
      const missingData = failedDownloads.find((f) => /\.onnx_data(_\d+)?$/.test(f.url) && f.why === 'HTTP 404');
      // onnxruntime names the data file a graph refers to but was not given.
      const unmounted = /Failed to load external data file "+([^"]+)"/.exec(String(error))?.[1];
      if (missingData || unmounted) return new ExplainedError(missingWeights(missingData ? relative(missingData.url) : `onnx/${unmounted}`), error);
      const failed = failedDownloads[0];
      if (failed && local) return new ExplainedError(`${relative(failed.url)} is missing from ${where}.`, error);
      const pending = [...files.values()].find((f) => !f.done)?.file;
      return new ModelFileError(failed ? `${failed.url} (${failed.why})` : (pending ?? fallback), error);
    };

    try {
      try {
        this.tokenizer = await AutoTokenizer.from_pretrained(modelId, { progress_callback });
      } catch (error) {
        throw failure(error, 'tokenizer.json');
      }
      let config: PretrainedConfig;
      try {
        config = await AutoConfig.from_pretrained(modelId, { progress_callback });
      } catch (error) {
        throw failure(error, 'config.json');
      }
      const data = dataPath(source.file, source.dtype);
      const { chunks, missing } = externalDataFor(source, config, await probeFile(`${folder}${data}`, fetchFile));
      if (missing) throw new ExplainedError(missingWeights(data));
      // In the browser the worker reads the data files itself (transformers.js's reading cannot
      // hold one over 2 GiB); in Node, onnxruntime-node reads them from disk.
      let externalData: { path: string; data: Uint8Array }[] = [];
      try {
        if (this.device === 'wasm') externalData = await Promise.all(dataFileNames(source.file, source.dtype, chunks).map((file) => readDataFile(folder, file, cache, progress_callback)));
      } catch (error) {
        throw failure(error, data);
      }
      try {
        // A data file that fails to download mid-load would leave transformers.js waiting forever.
        const dataFailed = new Promise<never>((_, reject) => (rejectDataFailed = reject));
        this.model = await Promise.race([dataFailed, AutoModelForCausalLM.from_pretrained(modelId, {
          config,
          dtype: source.dtype,
          device: this.device,
          model_file_name: source.file,
          use_external_data_format: this.device === 'wasm' ? false : chunks,
          session_options: {
            ...(externalData.length > 0 ? { externalData } : {}),
            // onnxruntime-node's own default uses every core; the benchmark compares at equal threads.
            ...(this.device === 'cpu' && this.threads ? { intraOpNumThreads: this.threads, interOpNumThreads: 1 } : {}),
          },
          progress_callback,
        })]);
      } catch (error) {
        throw failure(error, /json/i.test(String(error)) ? 'config.json' : onnxFile);
      } finally {
        // onnxruntime has copied the weights into its own heap: this copy goes with the last reference.
        for (const file of externalData) file.data = new Uint8Array(0);
      }
    } catch (error) {
      this.tokenizer = null;
      await cache?.discard();
      throw error;
    }
    await cache?.commit();
    this.format = tokenizerPromptFormat(this.tokenizer);
    const modelConfig = this.model.config as unknown as Record<string, unknown> & { max_position_embeddings?: number; n_positions?: number };
    const modelContext = modelConfig.max_position_embeddings ?? modelConfig.n_positions ?? 2048;
    // In WebAssembly's 4 GiB the weights leave room for only so much KV cache (see heap-budget.ts).
    const weightBytes = [...files.values()].filter((f) => /\.onnx(_data(_\d+)?)?$/.test(f.file)).reduce((sum, f) => sum + f.total, 0);
    const kvBytes = kvBytesPerToken(modelConfig);
    const fits = this.device === 'wasm' && kvBytes ? heapContextLimit(weightBytes, kvBytes) : null;
    const contextSize = fits === null ? modelContext : Math.min(modelContext, fits);
    return {
      engine: 'transformers.js',
      // The protocol names only the browser's device; 'cpu' appears only in Node tests.
      device: this.device as WasmEngineInfo['device'],
      model: source.id,
      dtype: source.dtype,
      threads: env.backends.onnx.wasm?.numThreads ?? 1,
      contextSize,
      ...(contextSize < modelContext ? { modelContextSize: modelContext } : {}),
      notCached: cache?.shortfall,
    };
  }

  promptFormat(): PromptFormat {
    return this.format;
  }

  countTokens(text: string): number {
    return this.encode(text).length;
  }

  /**
   * A chat template writes the model's begin-of-text token itself where it wants one, so the
   * tokenizer must not add another; phi-2's tokenizer adds none either way.
   */
  private encode(text: string): number[] {
    const { tokenizer } = this.ready();
    return this.format.kind === 'chat' ? tokenizer.encode(text, { add_special_tokens: false }) : tokenizer.encode(text);
  }

  /**
   * A label's ids as they follow the prompt: encoded with it, since a tokenizer may spell a word
   * differently at the start of a text (a SentencePiece one adds its word-start mark there).
   */
  private continuationIds(promptIds: readonly number[], prompt: string, text: string): number[] {
    const whole = this.encode(prompt + text);
    const agrees = whole.length > promptIds.length && promptIds.every((id, i) => whole[i] === id);
    return agrees ? whole.slice(promptIds.length) : this.encode(text);
  }

  async scoreContinuations(prompt: string, continuations: readonly string[], options?: RequestOptions): Promise<number[]> {
    const { model } = this.ready();
    const promptIds = this.encode(prompt);
    // One pass over the prompt scores every continuation's first token; only the tokens after that
    // need a pass of their own, on top of the prompt's KV cache, which they leave as it was.
    const { logits, past } = (await this.advance('classify', promptIds))!;
    options?.onPrefill?.(this.lastPrefill);
    const vocab = logits.length;
    const scores: number[] = [];
    for (const text of continuations) {
      const ids = this.continuationIds(promptIds, prompt, text);
      let score = logSoftmaxAt(logits, 0, vocab, ids[0]);
      if (ids.length > 1) {
        const rest = (await model.forward({ ...inputs(ids.slice(0, -1), promptIds.length), past_key_values: past })) as Record<string, Tensor>;
        const rows = rest.logits.data as Float32Array;
        for (let j = 1; j < ids.length; j++) score += logSoftmaxAt(rows, (j - 1) * vocab, vocab, ids[j]);
        for (const tensor of Object.values(rest)) tensor.dispose();
      }
      scores.push(score);
    }
    if (!this.kvReuse) this.dropCache('classify');
    return scores;
  }

  async generate(
    prompt: string,
    params: GenerationParams,
    onText: (text: string) => boolean,
    signal: AbortSignal,
    options?: RequestOptions,
  ): Promise<GenerationEnd> {
    const { tokenizer, model } = this.ready();
    const promptIds = this.encode(prompt);
    // A chat model's special tokens other than its end of turn stay in the text, so the stop filter
    // sees a marker it writes (`<|im_start|>`) and ends the reply there.
    const skip_special_tokens = this.format.kind === 'plain';
    const decoder = new IncrementalDecoder((ids) => tokenizer.decode(ids, { skip_special_tokens }));
    const eosIds = endOfTurnIds(model, tokenizer);
    const generated: number[] = [];
    try {
      let step = await this.advance('generate', promptIds, signal);
      if (step) options?.onPrefill?.(this.lastPrefill);
      while (step) {
        // A token that was already being computed when Stop arrived is not shown.
        if (signal.aborted) return 'stopped';
        const token = sampleToken(step.logits, generated, params, this.random);
        generated.push(token);
        if (eosIds.has(token)) return 'end';
        const text = decoder.next(generated);
        if (text && !onText(text)) return 'stopped';
        if (generated.length >= params.maxNewTokens) return 'length';
        step = await this.extend('generate', token, signal);
      }
      return 'stopped';
    } finally {
      if (!this.kvReuse) this.dropCache('generate');
    }
  }

  /**
   * Runs `ids` through the model on top of the slot's KV cache, as far as the cache agrees with
   * them (its ids are exactly the tokens it holds), and keeps the result as the slot's new cache.
   * Returns the logits after the last id (at least that id is always computed, for its logits), or
   * null when `signal` aborted first.
   */
  private async advance(slot: CacheSlot, ids: readonly number[], signal?: AbortSignal): Promise<Step | null> {
    // transformers.js never gives the event loop a turn between passes; this lets Stop arrive.
    await yieldToEventLoop();
    if (signal?.aborted) return null;
    const cache = this.caches.get(slot);
    // Taken out first: if the pass fails, no cache is left that might not match its ids.
    this.caches.delete(slot);
    const reused = cache ? Math.min(commonPrefixLength(cache.ids, ids), ids.length - 1) : 0;
    let past: PastKeyValues | undefined;
    if (cache && reused > 0) {
      past = reused === cache.ids.length ? cache.past : cropPast(cache.past, reused);
      if (past !== cache.past) disposePast(cache.past);
    } else if (cache) {
      disposePast(cache.past);
    }
    // The cache keeps a copy of its own, which decoding then extends in place.
    return this.forward(slot, [...ids], reused, past);
  }

  /**
   * `advance` by one decoded token, on a slot whose cache holds exactly the ids before it (the
   * prompt and the tokens generated so far): nothing to compare and nothing to copy, so a token
   * costs the same at the end of a long prompt as at its start.
   */
  private async extend(slot: CacheSlot, token: number, signal: AbortSignal): Promise<Step | null> {
    await yieldToEventLoop();
    if (signal.aborted) return null;
    const cache = this.caches.get(slot);
    if (!cache) throw new Error('No KV cache to extend: generation lost its place.');
    this.caches.delete(slot);
    cache.ids.push(token);
    return this.forward(slot, cache.ids, cache.ids.length - 1, cache.past);
  }

  /**
   * Runs `ids` after their first `reused`, whose keys and values are `past`, through the model, at
   * most `PREFILL_CHUNK` tokens a pass (a pass's activations grow with its length, in a heap of
   * 4 GiB at most); the cache it ends with becomes the slot's.
   */
  private async forward(slot: CacheSlot, ids: number[], reused: number, past: PastKeyValues | undefined): Promise<Step> {
    let done = reused;
    while (ids.length - done > PREFILL_CHUNK) {
      const outputs = await this.pass(ids.slice(done, done + PREFILL_CHUNK), done, past);
      outputs.logits.dispose();
      past = pastFrom(outputs);
      done += PREFILL_CHUNK;
    }
    const outputs = await this.pass(ids.slice(done), done, past);
    const { logits: all } = outputs;
    const vocab = all.dims.at(-1)!;
    const rows = all.dims.at(-2)!;
    const logits = (all.data as Float32Array).slice((rows - 1) * vocab, rows * vocab);
    all.dispose();
    const next = { ids, past: pastFrom(outputs) };
    this.caches.set(slot, next);
    this.lastPrefill = { cached: reused, computed: ids.length - reused };
    return { logits, past: next.past };
  }

  /** One forward pass over `ids` after `pastLength` tokens whose keys and values are `past`, which it disposes. */
  private async pass(ids: number[], pastLength: number, past: PastKeyValues | undefined): Promise<Record<string, Tensor>> {
    const { model } = this.ready();
    try {
      return (await model.forward({
        ...inputs(ids, pastLength),
        // Read only where the graph has the input: then only the last position's logits are made.
        num_logits_to_keep: new Tensor('int64', [1n], []),
        ...(past ? { past_key_values: past } : {}),
      })) as Record<string, Tensor>;
    } finally {
      disposePast(past);
    }
  }

  private dropCache(slot: CacheSlot) {
    disposePast(this.caches.get(slot)?.past);
    this.caches.delete(slot);
  }

  async unload(): Promise<void> {
    for (const slot of [...this.caches.keys()]) this.dropCache(slot);
    await this.model?.dispose();
    this.model = null;
    this.tokenizer = null;
    this.format = PLAIN_FORMAT;
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

/**
 * Every id that ends the model's turn: generation_config.json's `eos_token_id` (a list for chat
 * models: Qwen2.5 ends at `<|im_end|>` 151645 and `<|endoftext|>` 151643), config.json's, and the
 * tokenizer's `eos_token`.
 */
export function endOfTurnIds(model: PreTrainedModel, tokenizer: PreTrainedTokenizer): Set<number> {
  const ids = new Set<number>();
  const add = (value: unknown) => {
    for (const id of Array.isArray(value) ? value : [value]) if (typeof id === 'number') ids.add(id);
  };
  add(model.generation_config?.eos_token_id);
  add((model.config as unknown as { eos_token_id?: number | number[] }).eos_token_id);
  add(tokenizer.eos_token_id);
  return ids;
}

/** A conversation with every role, rendered once at load to find out whether the template works. */
const PROBE: ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Hello!' },
  { role: 'assistant', content: 'Hi! How can I help?' },
  { role: 'user', content: 'Tell me a joke.' },
];

/**
 * The model's own chat template, when its tokenizer has one that renders; else the plain format
 * (a base model like phi-2 has none), with a note for Details when a template was there but failed.
 * Every added token of the tokenizer is a marker: the tokenizer would match it in any text.
 */
export function tokenizerPromptFormat(tokenizer: PreTrainedTokenizer): PromptFormat {
  if (!tokenizer.chat_template) return PLAIN_FORMAT;
  const render = (messages: readonly ChatMessage[]) => {
    const text = tokenizer.apply_chat_template([...messages], { tokenize: false, add_generation_prompt: true });
    if (typeof text !== 'string') throw new Error('the template rendered no text');
    return text;
  };
  try {
    render(PROBE);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { kind: 'plain', note: `The model's chat template could not be rendered (${reason}), so its prompts are plain text.` };
  }
  const markers = [...tokenizer._tokenizer.get_added_tokens_decoder().values()].map((token) => token.content).filter((content) => content.trim());
  return { kind: 'chat', name: "the model's own", render, markers };
}
