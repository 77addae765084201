import { modelLibURLPrefix, modelVersion, prebuiltAppConfig } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import { PHI2_VARIANTS, variantLabel, webllmModelRecord } from './webllm-models';

describe('phi-2 variants', () => {
  it.each(Object.values(PHI2_VARIANTS))('$id matches the installed WebLLM prebuilt config', (variant) => {
    const record = prebuiltAppConfig.model_list.find((r) => r.model_id === variant.id);
    expect(record).toBeDefined();
    expect(record!.model).toBe(`https://huggingface.co/mlc-ai/${variant.weights}`);
    expect(record!.model_lib).toBe(`${modelLibURLPrefix}${modelVersion}/${variant.library}`);
    expect(record!.vram_required_MB).toBe(variant.vramMB);
    expect(record!.required_features ?? []).toEqual(variant.requiresShaderF16 ? ['shader-f16'] : []);
    expect(record!.overrides?.context_window_size).toBe(variant.contextSize);
  });

  it('builds a model record that fetches from a self-hosted mirror only', () => {
    const record = webllmModelRecord(PHI2_VARIANTS.q4f32_1k, {
      weightsBaseUrl: 'https://mirror.example/webllm/',
      libBaseUrl: 'https://mirror.example/webllm/',
    });
    expect(record).toEqual({
      model: 'https://mirror.example/webllm/phi-2-q4f32_1-MLC/resolve/main/',
      model_id: 'phi-2-q4f32_1-MLC-1k',
      model_lib: 'https://mirror.example/webllm/phi-2-q4f32_1_cs1k-webgpu.wasm',
      vram_required_MB: 2740.48,
      low_resource_required: true,
      overrides: { context_window_size: 1024 },
    });
    expect(webllmModelRecord(PHI2_VARIANTS.q4f16, { weightsBaseUrl: 'https://huggingface.co/mlc-ai/', libBaseUrl: 'https://libs.example/' }).required_features).toEqual(['shader-f16']);
  });

  it('labels variants for the status line', () => {
    expect(variantLabel(PHI2_VARIANTS.q4f32)).toBe('phi-2 q4f32');
    expect(variantLabel(PHI2_VARIANTS.q4f16_1k)).toBe('phi-2 q4f16 1k');
  });
});
