import type { PromptFormat } from './prompt-format';
import type { EngineInfo, FileProgress, GenerationParams, ModelSource, PrefillCount } from './protocol';

export type { GenerationParams };

/** Why `generate` returned: the model ended its text, hit the token limit, or was told to stop. */
export type GenerationEnd = 'end' | 'length' | 'stopped';

/** Per-request extras; an engine that keeps no KV cache between requests need not report. */
export interface RequestOptions {
  /** How many of the prompt's tokens came from the KV cache and how many were run through the model. */
  onPrefill?(count: PrefillCount): void;
}

/**
 * What the chat logic needs from a model runtime. Everything above this (classification, prompts,
 * stop sequences, context budget) is engine-agnostic. `Source` says where the engine's model comes
 * from: a transformers.js folder, or a WebLLM variant and mirror.
 */
export interface Engine<Source = ModelSource> {
  /**
   * `stage` names a loading step that is not a download. An engine that can stop loading does so
   * when `signal` aborts; the caller unloads it either way.
   */
  load(source: Source, onProgress: (files: FileProgress[], stage?: string) => void, signal?: AbortSignal): Promise<EngineInfo>;
  /** How the loaded model wants its prompts: phi-2's plain transcript, or the model's chat template. */
  promptFormat(): PromptFormat;
  /** Tokens of `text` as the engine would run it as (part of) a prompt. */
  countTokens(text: string): number;
  /**
   * Log-probability of each continuation after `prompt`, all of its tokens together; an engine may
   * shift all of them by one shared constant, as only their differences classify.
   */
  scoreContinuations(prompt: string, continuations: readonly string[], options?: RequestOptions): Promise<number[]>;
  /**
   * Streams decoded text (never a partial character). `onText` returns false to end generation;
   * it is checked after every token, and so is `signal`.
   */
  generate(
    prompt: string,
    params: GenerationParams,
    onText: (text: string) => boolean,
    signal: AbortSignal,
    options?: RequestOptions,
  ): Promise<GenerationEnd>;
  unload(): Promise<void>;
}
