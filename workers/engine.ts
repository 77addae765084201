import type { EngineInfo, FileProgress, ModelSource } from './protocol';

export interface GenerationParams {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
}

export const DEFAULT_GENERATION: GenerationParams = {
  maxNewTokens: 256,
  temperature: 0.7,
  topK: 50,
  topP: 0.9,
  // phi-2 loops on its own phrases without a penalty.
  repetitionPenalty: 1.15,
};

/** Why `generate` returned: the model ended its text, hit the token limit, or was told to stop. */
export type GenerationEnd = 'end' | 'length' | 'stopped';

/**
 * What the chat logic needs from a model runtime. Everything above this (classification, prompts,
 * stop sequences, context budget) is engine-agnostic.
 */
export interface Engine {
  load(source: ModelSource, onProgress: (files: FileProgress[]) => void): Promise<EngineInfo>;
  countTokens(text: string): number;
  /** Total log-probability of each continuation after `prompt`, scoring every token of multi-token ones. */
  scoreContinuations(prompt: string, continuations: readonly string[]): Promise<number[]>;
  /**
   * Streams decoded text (never a partial character). `onText` returns false to end generation;
   * it is checked after every token, and so is `signal`.
   */
  generate(
    prompt: string,
    params: GenerationParams,
    onText: (text: string) => boolean,
    signal: AbortSignal,
  ): Promise<GenerationEnd>;
  unload(): Promise<void>;
}
