import type { ModelRecord } from '@mlc-ai/web-llm';
import type { ChatFormatName } from './prompt-format';
import type { GpuModelSource } from './protocol';

/** One of WebLLM's prebuilt builds of a model (its `prebuiltAppConfig` entry, copied). */
export interface WebLLMVariant {
  /** WebLLM's model id. */
  id: string;
  /** What the user calls the model, for the status line: "phi-2". */
  model: string;
  quantization: 'q4f16' | 'q4f32';
  contextSize: number;
  /** Folder of the weights; a full and a 1k-context variant share it. */
  weights: string;
  /** The model compiled for WebGPU; a full and a 1k-context variant share it too. */
  library: string;
  /** WebLLM's estimate of the GPU memory the variant needs. */
  vramMB: number;
  /** WebLLM's own flag: the variant is meant to fit adapters with small buffer limits. */
  lowResource: boolean;
  /**
   * f16 kernels need the adapter's `shader-f16`. True for every q4f16 build, also where WebLLM's
   * config leaves the feature out (its Qwen2.5 q4f16 records do).
   */
  requiresShaderF16: boolean;
  /**
   * The conversation template of an instruct model, which the engine renders itself (WebLLM runs
   * raw completions of our text); unset for a base model such as phi-2, whose prompts are plain.
   */
  chatFormat?: ChatFormatName;
}

/** What the WebLLM engine loads: a variant, from the hosted files or a mirror. */
export interface WebLLMModel {
  variant: WebLLMVariant;
  source: GpuModelSource;
}

/** "phi-2 q4f32", or "phi-2 q4f32 1k" for a short-context variant. */
export function variantLabel(variant: WebLLMVariant): string {
  return `${variant.model} ${variant.quantization}${variant.id.endsWith('-1k') ? ' 1k' : ''}`;
}

/**
 * The WebLLM model record for a variant served from `source`. The weights URL ends in
 * `resolve/main/` because WebLLM appends that to any model URL that lacks it.
 */
export function webllmModelRecord(variant: WebLLMVariant, source: GpuModelSource): ModelRecord {
  return {
    model: new URL(`${variant.weights}/resolve/main/`, source.weightsBaseUrl).href,
    model_id: variant.id,
    model_lib: new URL(variant.library, source.libBaseUrl).href,
    vram_required_MB: variant.vramMB,
    low_resource_required: variant.lowResource,
    ...(variant.requiresShaderF16 ? { required_features: ['shader-f16'] } : {}),
    overrides: { context_window_size: variant.contextSize },
  };
}
