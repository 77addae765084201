import type { ModelRecord } from '@mlc-ai/web-llm';
import type { ChatFormatName } from './prompt-format';
import type { GpuModelSource } from './protocol';

/** One of WebLLM's prebuilt phi-2 builds. */
export interface Phi2Variant {
  /** WebLLM's model id. */
  id: string;
  quantization: 'q4f16' | 'q4f32';
  contextSize: number;
  /** Folder of the weights; the full and the 1k-context variant share it. */
  weights: string;
  /** The model compiled for WebGPU; the full and the 1k-context variant share it too. */
  library: string;
  /** WebLLM's estimate of the GPU memory the variant needs. */
  vramMB: number;
  requiresShaderF16: boolean;
  /**
   * The conversation template of an instruct model, which the engine renders itself (WebLLM runs
   * raw completions of our text); unset for a base model such as phi-2, whose prompts are plain.
   */
  chatFormat?: ChatFormatName;
}

/** What the WebLLM engine loads: a phi-2 variant, from the hosted files or a mirror. */
export interface WebLLMModel {
  variant: Phi2Variant;
  source: GpuModelSource;
}

/**
 * phi-2 as `prebuiltAppConfig` of @mlc-ai/web-llm 0.2.86 lists it (a unit test keeps the two in
 * step). Copied rather than imported so that choosing a variant does not load the library.
 */
export const PHI2_VARIANTS = {
  q4f16: {
    id: 'phi-2-q4f16_1-MLC',
    quantization: 'q4f16',
    contextSize: 2048,
    weights: 'phi-2-q4f16_1-MLC',
    library: 'phi-2-q4f16_1_cs1k-webgpu.wasm',
    vramMB: 3053.97,
    requiresShaderF16: true,
  },
  q4f32: {
    id: 'phi-2-q4f32_1-MLC',
    quantization: 'q4f32',
    contextSize: 2048,
    weights: 'phi-2-q4f32_1-MLC',
    library: 'phi-2-q4f32_1_cs1k-webgpu.wasm',
    vramMB: 4032.48,
    requiresShaderF16: false,
  },
  q4f16_1k: {
    id: 'phi-2-q4f16_1-MLC-1k',
    quantization: 'q4f16',
    contextSize: 1024,
    weights: 'phi-2-q4f16_1-MLC',
    library: 'phi-2-q4f16_1_cs1k-webgpu.wasm',
    vramMB: 2131.97,
    requiresShaderF16: true,
  },
  q4f32_1k: {
    id: 'phi-2-q4f32_1-MLC-1k',
    quantization: 'q4f32',
    contextSize: 1024,
    weights: 'phi-2-q4f32_1-MLC',
    library: 'phi-2-q4f32_1_cs1k-webgpu.wasm',
    vramMB: 2740.48,
    requiresShaderF16: false,
  },
} as const satisfies Record<string, Phi2Variant>;

/** "phi-2 q4f32", or "phi-2 q4f32 1k" for the short-context variant. */
export function variantLabel(variant: Phi2Variant): string {
  return `phi-2 ${variant.quantization}${variant.contextSize < 2048 ? ' 1k' : ''}`;
}

/**
 * The WebLLM model record for a variant served from `source`. The weights URL ends in
 * `resolve/main/` because WebLLM appends that to any model URL that lacks it.
 */
export function webllmModelRecord(variant: Phi2Variant, source: GpuModelSource): ModelRecord {
  return {
    model: new URL(`${variant.weights}/resolve/main/`, source.weightsBaseUrl).href,
    model_id: variant.id,
    model_lib: new URL(variant.library, source.libBaseUrl).href,
    vram_required_MB: variant.vramMB,
    low_resource_required: variant.contextSize < 2048,
    ...(variant.requiresShaderF16 ? { required_features: ['shader-f16'] } : {}),
    overrides: { context_window_size: variant.contextSize },
  };
}
