import { modelLibURLPrefix, modelVersion, prebuiltAppConfig } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import { DTYPES } from './model-source';
import { CATALOG, catalogModelOf, DEFAULT_MODEL, loadModelOf, PHI2, whereItRuns } from './model-catalog';
import { LIMITS } from './settings';

const variants = CATALOG.flatMap((model) => model.gpu?.variants ?? []);

describe('model catalog', () => {
  it('starts with phi-2, the default, on its plain template', () => {
    expect(CATALOG[0]).toBe(PHI2);
    expect(DEFAULT_MODEL).toBe(PHI2);
    expect(PHI2.promptFormat).toBe('plain');
    expect(whereItRuns(PHI2)).toBe('GPU or CPU');
  });

  it('has a small CPU-fast instruct model and a stronger 1.5–4 B one, each on both engines', () => {
    const instruct = CATALOG.filter((m) => m.promptFormat === 'chat');
    expect(instruct.some((m) => m.cpu && m.cpu.downloadBytes < 600e6 && m.gpu)).toBe(true);
    expect(instruct.some((m) => /1\.5B|[234]B|mini/.test(m.name) && m.cpu && m.gpu)).toBe(true);
  });

  it.each(CATALOG)('$name is well formed', (model) => {
    expect(model.id).toMatch(/^[a-z0-9.-]+$/);
    expect(CATALOG.filter((m) => m.id === model.id)).toHaveLength(1);
    expect(model.name.trim()).toBe(model.name);
    expect(model.license).not.toBe('');
    expect(model.note.length).toBeGreaterThan(10);
    expect(model.note.length).toBeLessThan(100);
    expect(model.cpu || model.gpu).toBeTruthy();
    for (const [key, value] of Object.entries(model.defaults)) {
      const { min, max } = LIMITS[key as keyof typeof LIMITS];
      expect(value, key).toBeGreaterThanOrEqual(min);
      expect(value, key).toBeLessThanOrEqual(max);
    }
    if (model.cpu) {
      expect(DTYPES).toContain(model.cpu.source.dtype);
      expect(model.cpu.source.id).toMatch(/^[\w.-]+\/[\w.-]+$/);
      expect(model.cpu.downloadBytes).toBeGreaterThan(1e8);
      // phi-2's CPU build reads 704 tokens: what WebAssembly's heap holds beside its weights.
      expect(model.cpu.contextSize).toBeGreaterThanOrEqual(704);
    }
    if (model.gpu) {
      expect(model.gpu.variants.length).toBeGreaterThan(0);
      expect(model.gpu.downloadBytes).toBeGreaterThan(1e8);
      // An instruct model's WebLLM build is prompted with its conversation template, phi-2's with ours.
      for (const variant of model.gpu.variants) expect(variant.chatFormat !== undefined).toBe(model.promptFormat === 'chat');
      expect(model.gpu.variants.some((v) => !v.requiresShaderF16), 'a build for adapters without shader-f16').toBe(true);
    }
    expect(loadModelOf(model)).toEqual({ name: model.name, gpuVariants: model.gpu?.variants ?? [] });
  });

  it.each(variants)('$id matches the installed WebLLM prebuilt config', (variant) => {
    const record = prebuiltAppConfig.model_list.find((r) => r.model_id === variant.id);
    expect(record).toBeDefined();
    expect(record!.model).toBe(`https://huggingface.co/mlc-ai/${variant.weights}`);
    expect(record!.model_lib).toBe(`${modelLibURLPrefix}${modelVersion}/${variant.library}`);
    expect(record!.vram_required_MB).toBe(variant.vramMB);
    expect(record!.low_resource_required ?? false).toBe(variant.lowResource);
    expect(record!.overrides?.context_window_size).toBe(variant.contextSize);
    // Ours may add shader-f16 (WebLLM's Qwen2.5 q4f16 records leave it out), never drop one WebLLM asks for.
    for (const feature of record!.required_features ?? []) expect(feature === 'shader-f16' && variant.requiresShaderF16).toBe(true);
    expect(variant.requiresShaderF16).toBe(variant.quantization === 'q4f16');
  });

  it('names the catalog model behind a stored engine id, CPU or GPU', () => {
    expect(catalogModelOf('BricksDisplay/phi-2-q4')).toBe(PHI2);
    expect(catalogModelOf('phi-2-q4f32_1-MLC-1k')).toBe(PHI2);
    expect(catalogModelOf('Qwen2.5-0.5B-Instruct-q4f16_1-MLC')?.name).toBe('Qwen2.5 0.5B Instruct');
    expect(catalogModelOf('http://127.0.0.1/models/phi-tiny/')).toBeUndefined();
  });
});
