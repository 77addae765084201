import type { GenerationParams, ModelSource } from '../../../workers/protocol';

/** Loads the model in a fresh bare worker: onnxruntime fixes its thread count once per worker. */
export interface BareLoad {
  source: ModelSource;
  /** Unset: the engine's own thread rule, as in the app. */
  threads?: number;
}

export interface BareLoaded {
  threads: number;
  loadMs: number;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
}

/** One reply on the loaded bare engine, from the exact prompt the app built. */
export interface BareRun {
  prompt: string;
  params: GenerationParams;
  /** The chatbot's speaker name, whose line ends a reply (the app's stop rule). */
  bot: string;
  /** Classify this message first, as the app does before each reply. */
  classify?: string;
}

/** What a run measured; times in milliseconds, taken where the engine runs. */
export interface BareResult {
  classifyMs?: number;
  classifyForwardPasses?: number;
  /** From the start of generation to the first visible text. */
  firstTextMs: number;
  /** From the first visible text to the last. */
  streamMs: number;
  /** When the first and the last visible text came, in epoch milliseconds (the page's CPU between them is measured). */
  firstTextAt: number;
  lastTextAt: number;
  replyTokens: number;
  text: string;
}

export type BareRequest = ({ type: 'load' } & BareLoad) | ({ type: 'run' } & BareRun);
export type BareResponse = { ok: true; result: BareLoaded | BareResult } | { ok: false; error: string };
