import { DEFAULT_GENERATION } from '../../workers/defaults';
import type { GenerationParams, LoadModel, ModelSource } from '../../workers/protocol';
import type { ChatFormatName } from '../../workers/prompt-format';
import type { WebLLMVariant } from '../../workers/webllm-models';

/**
 * The curated models, as data. Everything here was read from what the libraries really serve
 * (November 2026): the WebLLM builds from `prebuiltAppConfig` of the installed @mlc-ai/web-llm
 * 0.2.86 (a unit test keeps them in step), the transformers.js builds from each hosted
 * repository's file list (its `onnx/` files, and a `tokenizer_config.json` with a `chat_template`
 * for the instruct models). Sizes are the hosted files' sizes; see the README's model table.
 */

/** `plain`: our `Human:` / `Chatbot:` template (phi-2 is a base model); `chat`: the model's own chat template. */
export type PromptFormat = 'plain' | 'chat';

/** A transformers.js build, for the CPU (onnxruntime-web on WebAssembly). */
export interface CpuBuild {
  source: ModelSource;
  /** Every file of the build: the ONNX graph (and its data file), tokenizer and configs. */
  downloadBytes: number;
  /** The config's `max_position_embeddings`: what the engine reports as its window. */
  contextSize: number;
}

/** WebLLM builds, for the GPU; the engine picks one variant from the adapter (see engine-select.ts). */
export interface GpuBuild {
  variants: WebLLMVariant[];
  /** The weights' shards plus the model library, for the largest variant. */
  downloadBytes: number;
}

export interface CatalogModel {
  /** Stable id, kept in settings and on conversations. */
  id: string;
  name: string;
  license: string;
  /** One line on what it is good and bad at. */
  note: string;
  promptFormat: PromptFormat;
  /** The model's own generation defaults; settings the user changed win over them. */
  defaults: GenerationParams;
  cpu?: CpuBuild;
  gpu?: GpuBuild;
}

const MB = 1e6;
const GB = 1e9;

function mlc(
  model: string,
  id: string,
  { contextSize, vramMB, lowResource, weights, library, chatFormat }: { contextSize: number; vramMB: number; lowResource: boolean; weights: string; library: string; chatFormat?: ChatFormatName },
): WebLLMVariant {
  const quantization = id.includes('q4f16') ? 'q4f16' : 'q4f32';
  return { id, model, quantization, contextSize, weights, library, vramMB, lowResource, requiresShaderF16: quantization === 'q4f16', ...(chatFormat ? { chatFormat } : {}) };
}

/** Both quantizations of an instruct model at WebLLM's default 4k context (no 1k variants are listed for these). */
function instructVariants(model: string, name: string, library: string, vram: { q4f16: number; q4f32: number }, chatFormat: ChatFormatName): WebLLMVariant[] {
  return (['q4f16', 'q4f32'] as const).map((q) =>
    mlc(model, `${name}-${q}_1-MLC`, { contextSize: 4096, vramMB: vram[q], lowResource: true, weights: `${name}-${q}_1-MLC`, library: `${library}-${q}_1_cs1k-webgpu.wasm`, chatFormat }),
  );
}

export const PHI2: CatalogModel = {
  id: 'phi-2',
  name: 'phi-2',
  license: 'MIT',
  note: 'The default: 2.7 B, good at short answers and jokes; a base model, prompted with a plain template.',
  promptFormat: 'plain',
  defaults: { ...DEFAULT_GENERATION },
  // BricksDisplay/phi-2-q4: Optimum's merged decoder, q8 weights in an external-data file (see the README).
  cpu: {
    source: { id: 'BricksDisplay/phi-2-q4', dtype: 'q8', file: 'decoder_model_merged', externalData: true },
    downloadBytes: 2.78 * GB,
    // Not its 2,048: in WebAssembly's 4 GiB beside 2.78 GB of weights, the KV cache fits 704 tokens (workers/heap-budget.ts).
    contextSize: 704,
  },
  gpu: {
    variants: [
      mlc('phi-2', 'phi-2-q4f16_1-MLC', { contextSize: 2048, vramMB: 3053.97, lowResource: false, weights: 'phi-2-q4f16_1-MLC', library: 'phi-2-q4f16_1_cs1k-webgpu.wasm' }),
      mlc('phi-2', 'phi-2-q4f32_1-MLC', { contextSize: 2048, vramMB: 4032.48, lowResource: false, weights: 'phi-2-q4f32_1-MLC', library: 'phi-2-q4f32_1_cs1k-webgpu.wasm' }),
      mlc('phi-2', 'phi-2-q4f16_1-MLC-1k', { contextSize: 1024, vramMB: 2131.97, lowResource: true, weights: 'phi-2-q4f16_1-MLC', library: 'phi-2-q4f16_1_cs1k-webgpu.wasm' }),
      mlc('phi-2', 'phi-2-q4f32_1-MLC-1k', { contextSize: 1024, vramMB: 2740.48, lowResource: true, weights: 'phi-2-q4f32_1-MLC', library: 'phi-2-q4f32_1_cs1k-webgpu.wasm' }),
    ],
    // 2.7 B weights at 4 bits and their scales, as the other q4 builds weigh per parameter.
    downloadBytes: 1.6 * GB,
  },
};

export const CATALOG: readonly CatalogModel[] = [
  PHI2,
  {
    id: 'smollm2-360m-instruct',
    name: 'SmolLM2 360M Instruct',
    license: 'Apache-2.0',
    note: 'Tiny and fast, even on a CPU; weaker at facts and jokes.',
    promptFormat: 'chat',
    // The model card samples at temperature 0.2, top-p 0.9.
    defaults: { maxNewTokens: 256, temperature: 0.2, topK: 50, topP: 0.9, repetitionPenalty: 1.05 },
    // Its onnx/ holds model.onnx, model_fp16, model_q4 (417 MB) and model_q4f16; no q8 build.
    cpu: { source: { id: 'HuggingFaceTB/SmolLM2-360M-Instruct', dtype: 'q4', file: 'model', externalData: false }, downloadBytes: 421 * MB, contextSize: 8192 },
    gpu: { variants: instructVariants('SmolLM2 360M', 'SmolLM2-360M-Instruct', 'SmolLM2-360M-Instruct', { q4f16: 376.06, q4f32: 579.61 }, 'chatml'), downloadBytes: 220 * MB },
  },
  {
    id: 'qwen2.5-0.5b-instruct',
    name: 'Qwen2.5 0.5B Instruct',
    license: 'Apache-2.0',
    note: 'Small and quick; follows instructions better than its size suggests.',
    promptFormat: 'chat',
    // Its generation_config.json: temperature 0.7, top-p 0.8, top-k 20, repetition penalty 1.05.
    defaults: { maxNewTokens: 256, temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.05 },
    // onnx/model_quantized.onnx is 512 MB, one file; tokenizer.json 7 MB.
    cpu: { source: { id: 'onnx-community/Qwen2.5-0.5B-Instruct', dtype: 'q8', file: 'model', externalData: false }, downloadBytes: 522 * MB, contextSize: 32768 },
    // The q4f16 build's eight params shards add up to 278 MB, its tokenizer 7 MB.
    gpu: { variants: instructVariants('Qwen2.5 0.5B', 'Qwen2.5-0.5B-Instruct', 'Qwen2-0.5B-Instruct', { q4f16: 944.62, q4f32: 1060.2 }, 'chatml'), downloadBytes: 290 * MB },
  },
  {
    id: 'llama-3.2-1b-instruct',
    name: 'Llama 3.2 1B Instruct',
    license: 'Llama 3.2 Community License',
    note: 'Meta’s small chat model: fluent, many languages; slower on a CPU.',
    promptFormat: 'chat',
    // Its generation_config.json: temperature 0.6, top-p 0.9.
    defaults: { maxNewTokens: 256, temperature: 0.6, topK: 50, topP: 0.9, repetitionPenalty: 1 },
    // onnx/model_quantized.onnx is 1.24 GB, one file; tokenizer.json 9 MB.
    cpu: { source: { id: 'onnx-community/Llama-3.2-1B-Instruct', dtype: 'q8', file: 'model', externalData: false }, downloadBytes: 1.25 * GB, contextSize: 131072 },
    gpu: { variants: instructVariants('Llama 3.2 1B', 'Llama-3.2-1B-Instruct', 'Llama-3.2-1B-Instruct', { q4f16: 879.04, q4f32: 1128.82 }, 'llama3'), downloadBytes: 700 * MB },
  },
  {
    id: 'qwen2.5-1.5b-instruct',
    name: 'Qwen2.5 1.5B Instruct',
    license: 'Apache-2.0',
    note: 'The strongest here for answers and reasoning; best on a GPU.',
    promptFormat: 'chat',
    defaults: { maxNewTokens: 256, temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.05 },
    // onnx/model_quantized.onnx is 1.58 GB, one file; tokenizer.json 7 MB.
    cpu: { source: { id: 'onnx-community/Qwen2.5-1.5B-Instruct', dtype: 'q8', file: 'model', externalData: false }, downloadBytes: 1.59 * GB, contextSize: 32768 },
    gpu: { variants: instructVariants('Qwen2.5 1.5B', 'Qwen2.5-1.5B-Instruct', 'Qwen2-1.5B-Instruct', { q4f16: 1629.75, q4f32: 1888.97 }, 'chatml'), downloadBytes: 880 * MB },
  },
];

export const DEFAULT_MODEL = PHI2;

export function catalogModel(id: string | undefined): CatalogModel | undefined {
  return CATALOG.find((m) => m.id === id);
}

/** Where a model runs, for the picker. */
export function whereItRuns(model: CatalogModel): 'GPU or CPU' | 'GPU only' | 'CPU only' {
  return model.gpu && model.cpu ? 'GPU or CPU' : model.gpu ? 'GPU only' : 'CPU only';
}

/** The catalog model a stored id belongs to: its CPU source id or one of its WebLLM ids (replies keep these). */
export function catalogModelOf(engineModelId: string): CatalogModel | undefined {
  return CATALOG.find((m) => m.cpu?.source.id === engineModelId || m.gpu?.variants.some((v) => v.id === engineModelId));
}

/** What the worker is told about a catalog model when it loads it. */
export function loadModelOf(model: CatalogModel): LoadModel {
  return { name: model.name, gpuVariants: model.gpu?.variants ?? [] };
}
