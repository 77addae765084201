import { describe, expect, it } from 'vitest';
import { PHI2 } from '../src/lib/model-catalog';
import { variantLabel, webllmModelRecord } from './webllm-models';

const phi2 = (id: string) => PHI2.gpu!.variants.find((v) => v.id === id)!;

describe('WebLLM variants', () => {
  it('builds a model record that fetches from a self-hosted mirror only', () => {
    const record = webllmModelRecord(phi2('phi-2-q4f32_1-MLC-1k'), {
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
    expect(webllmModelRecord(phi2('phi-2-q4f16_1-MLC'), { weightsBaseUrl: 'https://huggingface.co/mlc-ai/', libBaseUrl: 'https://libs.example/' }).required_features).toEqual(['shader-f16']);
  });

  it('labels variants for the status line by their model', () => {
    expect(variantLabel(phi2('phi-2-q4f32_1-MLC'))).toBe('phi-2 q4f32');
    expect(variantLabel(phi2('phi-2-q4f16_1-MLC-1k'))).toBe('phi-2 q4f16 1k');
  });
});
