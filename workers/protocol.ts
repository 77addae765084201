import type { WebLLMVariant } from './webllm-models';

/**
 * The wire format between the UI thread and the inference worker: the one file both sides import.
 * Every request carries an id; every reply stream for that id ends with exactly one `done` or `error`.
 */

export const INTENTS = ['support', 'sales', 'joke'] as const;
export type Intent = (typeof INTENTS)[number];
/** What the reply was generated with: a classified intent, or `general` when the classifier was unsure. */
export type RouteIntent = Intent | 'general';
export const ROUTES: readonly RouteIntent[] = [...INTENTS, 'general'];

export type Dtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';

/** Where the weights come from: a hub repo id, or a folder URL holding a transformers.js model. */
export interface ModelSource {
  /** A hub repo id (`owner/name`) or an absolute http(s) URL of a model folder. */
  id: string;
  dtype: Dtype;
  /** Base name of the ONNX file under `onnx/`, without the dtype suffix. */
  file: string;
  /** Whether the weights live in a separate `.onnx_data` file. */
  externalData: boolean;
}

export interface Turn {
  user: string;
  assistant: string;
}

/** How the reply is generated; the UI's settings, sent with every chat request. */
export interface GenerationParams {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
}

/** Who the chatbot is: its speaker name in the prompt, and a line about it (the seeds' persona). */
export interface Persona {
  name: string;
  description: string;
}

export interface ChatSettings {
  generation: GenerationParams;
  persona: Persona;
  instructions: Record<RouteIntent, string>;
  /** Classify with the previous turn as context, so short follow-ups ("2", "yes") read right. */
  classifyWithPreviousTurn: boolean;
  group: GroupSettings;
}

/** How readily the assistant speaks in a group conversation: a threshold on the speak probability. */
export type Talkativeness = 'quiet' | 'balanced' | 'chatty';
export const TALKATIVENESS: readonly Talkativeness[] = ['quiet', 'balanced', 'chatty'];

export interface GroupSettings {
  /** The group instructions: when the assistant speaks and when it stays silent. */
  instructions: string;
  /** The line after the conversation that reminds the model of those instructions. */
  reminder: string;
  talkativeness: Talkativeness;
}

/** One line of a group conversation: a participant's message or the assistant's reply. */
export interface GroupLine {
  speaker: string;
  text: string;
  /** Written by the assistant (then `speaker` is its name). */
  assistant?: boolean;
}

/** After a participant's message in a group conversation: decide to speak or not, and reply if so. */
export interface GroupChatRequest {
  id: number;
  type: 'group-chat';
  /** Every participant's name, for neutralising and for the stop filter. */
  participants: string[];
  /** Lines since the summary, oldest first; the worker keeps as many recent ones as fit. */
  history: GroupLine[];
  summary?: string;
  /** The message just sent, with its speaker. */
  message: GroupLine;
  settings: ChatSettings;
  /** "Ask the assistant": reply whatever the decision would have been. */
  force: boolean;
}

/** Whether the assistant spoke after a group message, and why. */
export interface GroupDecision {
  speak: boolean;
  /** The model's probability of speaking, from the two scored continuations alone. */
  modelProbability: number;
  /** After the prior for being addressed: what is compared with the threshold. */
  probability: number;
  threshold: number;
  /** The message named the assistant or asked it a question. */
  addressed: 'no' | 'named' | 'question';
  /** The user pressed Ask the assistant: it replies whatever the probability. */
  forced?: boolean;
}

export interface ChatRequest {
  id: number;
  type: 'chat';
  /** Turns since the summary, oldest first; the worker keeps as many recent ones as fit. */
  history: Turn[];
  /** The running summary of turns older than `history`, if any. */
  summary?: string;
  message: string;
  settings: ChatSettings;
  /** `auto` lets the classifier route; anything else is the user's choice for this message. */
  intent: RouteIntent | 'auto';
  /** Continue a reply cut at the token limit: its text so far and the intent it was written with. */
  continuation?: { text: string; route: RouteIntent };
}

/**
 * The most turns one summary step folds: each step costs one bounded generation, is saved when it
 * ends, and can be interrupted, whatever the length of the history still to fold.
 */
export const FOLD_STEP_TURNS = 8;

/** Folds turns that no longer fit the context into the running summary. */
export interface SummarizeRequest {
  id: number;
  type: 'summarize';
  summary?: string;
  turns: Turn[];
  persona: Persona;
  /** A group conversation's lines to fold in, instead of `turns`, with every participant's name. */
  group?: { lines: GroupLine[]; participants: string[] };
}

/** How a prompt's tokens were processed: taken from the KV cache kept from earlier requests, or run through the model. */
export interface PrefillCount {
  cached: number;
  computed: number;
}

/** Timing and size of one reply, for the inspect view. */
export interface ReplyStats {
  promptTokens: number;
  replyTokens: number;
  classifyMs: number;
  /** From the start of generation to the first visible text. */
  firstTokenMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  classifyPrefill?: PrefillCount;
  replyPrefill?: PrefillCount;
}

export interface Classification {
  /** Probability of each label, summing to 1. */
  probabilities: Record<Intent, number>;
  /** The top label, or `general` when its probability is under the threshold, or the user's choice. */
  route: RouteIntent;
  /** The user chose the route for this message; the probabilities are the classifier's opinion. */
  overridden?: boolean;
}

/** The exact reply prompt sent to the model, for the user to inspect. */
export interface PromptInfo {
  text: string;
  tokens: number;
  /** Earlier turns included; older ones did not fit the context window. */
  turnsUsed: number;
  /** Whether the running summary of older turns was in the prompt. */
  summarized?: boolean;
  /** How many of the oldest turns of the request's history the summary should take in after this reply. */
  foldTurns?: number;
  /** The prompt's format: plain text, or the model's chat template (by name). */
  format?: string;
  /** Why the model's own chat template was not used, when it was not. */
  note?: string;
}

/** Which engine the user wants: chosen from the device's capabilities, or forced in settings. */
export type EnginePreference = 'auto' | 'webgpu' | 'wasm';
export const ENGINE_PREFERENCES: readonly EnginePreference[] = ['auto', 'webgpu', 'wasm'];

/**
 * Where WebLLM fetches a model: the weights of a variant from `${weightsBaseUrl}${variant folder}/resolve/main/`
 * (Hugging Face's layout, which WebLLM expects) and its compiled model library from `${libBaseUrl}${library file}`.
 */
export interface GpuModelSource {
  weightsBaseUrl: string;
  libBaseUrl: string;
}

export interface WasmEngineInfo {
  engine: 'transformers.js';
  device: 'wasm';
  model: string;
  dtype: Dtype;
  threads: number;
  /** The tokens a prompt and its reply may take together: the model's window, or less where WebAssembly's memory holds less. */
  contextSize: number;
  /** The model's own window, set when `contextSize` is less for want of memory. */
  modelContextSize?: number;
  /** Set when the model's files did not all fit in the browser's storage, so they were not all kept. */
  notCached?: StorageShortfall;
}

export interface StorageShortfall {
  /** All of the model's files together. */
  modelBytes: number;
  /** What the browser said was still free when a file did not fit; absent when its estimate was wrong. */
  freeBytes?: number;
}

export interface WebGpuEngineInfo {
  engine: 'webllm';
  device: 'webgpu';
  /** The WebLLM model id, e.g. `phi-2-q4f32_1-MLC-1k`. */
  model: string;
  quantization: 'q4f16' | 'q4f32';
  contextSize: number;
  /** The graphics adapter, as the browser names it. */
  adapter: string;
}

export type EngineInfo = WasmEngineInfo | WebGpuEngineInfo;

/** A GPU attempt that failed before the engine that did load: shown so the user knows why. */
export interface GpuFailure {
  /** What was tried, e.g. "phi-2 q4f32 (no shader-f16 on this adapter)". */
  tried: string;
  message: string;
  detail?: string;
}

/** The engine the worker starts loading, and why that one (a fragment for the status line). */
export type EngineAttempt =
  | { engine: 'webllm'; variant: string; reason: string }
  | { engine: 'transformers.js'; reason: string; gpuFailure?: GpuFailure };

export interface FileProgress {
  file: string;
  loaded: number;
  total: number;
  done: boolean;
}

/** Which model a load is for: what the status lines and errors call it, its GPU builds, its prompt format. */
export interface LoadModel {
  name: string;
  /** Its WebLLM builds, the engine picks one; empty for a model WebLLM does not serve (a custom folder). */
  gpuVariants: WebLLMVariant[];
}

export interface LoadRequest {
  id: number;
  type: 'load';
  model: LoadModel;
  /** The model for transformers.js (CPU); absent for a model with no CPU build. */
  source?: ModelSource;
  /** Where WebLLM (GPU) fetches the model's files. */
  gpuSource: GpuModelSource;
  preference: EnginePreference;
  /** Keep the KV cache between requests and reuse its common prefix (absent = on); off for comparisons. */
  kvReuse?: boolean;
}

export type Request =
  | LoadRequest
  | ChatRequest
  | SummarizeRequest
  | GroupChatRequest
  | { id: number; type: 'stop'; target: number };

export type Response =
  | { id: number; type: 'attempt'; attempt: EngineAttempt }
  /** `stage` names a step that is not a download, e.g. compiling GPU shaders. */
  | { id: number; type: 'progress'; files: FileProgress[]; stage?: string }
  | { id: number; type: 'loaded'; info: EngineInfo; reason: string; gpuFailure?: GpuFailure }
  | { id: number; type: 'intent'; classification: Classification }
  /** A group message's speak/silence decision, with the exact prompt it was scored on. */
  | { id: number; type: 'decision'; decision: GroupDecision; prompt: PromptInfo }
  | { id: number; type: 'prompt'; prompt: PromptInfo }
  | { id: number; type: 'token'; text: string }
  /** `folded`: how many of the request's turns (the oldest) the summary now takes in. */
  | { id: number; type: 'summary'; text: string; folded?: number }
  | { id: number; type: 'done'; stopReason: StopReason; stats?: ReplyStats }
  /** `deviceLost`: the GPU went away; the engine is gone and the next load picks again. */
  | { id: number; type: 'error'; message: string; detail?: string; deviceLost?: boolean };

/** Why a reply ended: a stop sequence or end-of-text, the token limit, or the user's Stop. */
export type StopReason = 'end' | 'length' | 'aborted';
