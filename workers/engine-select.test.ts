import { describe, expect, it } from 'vitest';
import { CATALOG, PHI2 } from '../src/lib/model-catalog';
import { chooseEngine, type AdapterDescription, type GpuCandidate, type GpuProbe } from './engine-select';
import type { EnginePreference } from './protocol';

const gpuCandidate = (id: string): GpuCandidate => {
  const model = CATALOG.find((m) => m.id === id)!;
  return { name: model.name, variants: model.gpu?.variants ?? [] };
};
const phi2 = gpuCandidate(PHI2.id);

const MiB = 2 ** 20;
const GiB = 1024 * MiB;

/** A capable discrete GPU: shader-f16, 4 GiB buffers, 16 GB of RAM. */
function adapter(overrides: Partial<Omit<AdapterDescription, 'limits'>> & { limits?: Partial<AdapterDescription['limits']> } = {}): GpuProbe {
  return {
    status: 'adapter',
    adapter: {
      name: 'nvidia ampere',
      features: ['shader-f16', 'subgroups'],
      deviceMemoryGiB: 16,
      ...overrides,
      limits: {
        maxBufferSize: 4 * GiB,
        maxStorageBufferBindingSize: 4 * GiB,
        maxComputeWorkgroupStorageSize: 32 * 1024,
        maxStorageBuffersPerShaderStage: 10,
        ...overrides.limits,
      },
    },
  };
}

// SwiftShader as headless Chromium reports it: no shader-f16, 1 GiB buffers.
const swiftShader = adapter({ name: 'google swiftshader', features: ['subgroups', 'timestamp-query'], limits: { maxBufferSize: GiB, maxStorageBufferBindingSize: GiB } });

describe('chooseEngine', () => {
  const table: [string, EnginePreference, GpuProbe, number, { engine: string; variant?: string; reason: string }][] = [
    ['CPU forced: the GPU is not even looked at', 'wasm', adapter(), 0, { engine: 'transformers.js', reason: 'CPU forced in settings' }],
    ['no navigator.gpu', 'auto', { status: 'no-webgpu' }, 0, { engine: 'transformers.js', reason: 'this browser has no WebGPU' }],
    ['no adapter', 'auto', { status: 'no-adapter' }, 0, { engine: 'transformers.js', reason: 'WebGPU found no graphics adapter' }],
    ['requestAdapter threw', 'auto', { status: 'adapter-error', message: 'boom' }, 0, { engine: 'transformers.js', reason: 'WebGPU could not open the graphics adapter' }],
    ['shader-f16: the f16 variant, full context', 'auto', adapter(), 0, { engine: 'webllm', variant: 'phi-2-q4f16_1-MLC', reason: 'this adapter has shader-f16' }],
    ['no shader-f16: the f32 variant', 'auto', adapter({ features: ['subgroups'] }), 0, { engine: 'webllm', variant: 'phi-2-q4f32_1-MLC', reason: 'no shader-f16 on this adapter' }],
    ['SwiftShader: q4f32 at full context (1 GiB buffers suffice)', 'auto', swiftShader, 0, { engine: 'webllm', variant: 'phi-2-q4f32_1-MLC', reason: 'no shader-f16 on this adapter' }],
    [
      'storage bindings under 1 GiB: the 1k variant',
      'auto',
      adapter({ limits: { maxStorageBufferBindingSize: 128 * MiB } }),
      0,
      { engine: 'webllm', variant: 'phi-2-q4f16_1-MLC-1k', reason: 'this adapter has shader-f16, and its 128 MB buffer limit calls for 1k context' },
    ],
    [
      'buffers under 1 GiB without shader-f16: q4f32 1k',
      'auto',
      adapter({ features: [], limits: { maxBufferSize: 256 * MiB } }),
      0,
      { engine: 'webllm', variant: 'phi-2-q4f32_1-MLC-1k', reason: 'no shader-f16 on this adapter, and its 256 MB buffer limit calls for 1k context' },
    ],
    [
      '4 GB of RAM: too little for the full f16 variant (3 GB)',
      'auto',
      adapter({ deviceMemoryGiB: 4 }),
      0,
      { engine: 'webllm', variant: 'phi-2-q4f16_1-MLC-1k', reason: 'this adapter has shader-f16, and 4 GB of device memory calls for 1k context' },
    ],
    ['8 GB of RAM: enough for the full f32 variant (4 GB)', 'auto', adapter({ features: [], deviceMemoryGiB: 8 }), 0, { engine: 'webllm', variant: 'phi-2-q4f32_1-MLC', reason: 'no shader-f16 on this adapter' }],
    ['memory unknown: the limits decide alone', 'auto', adapter({ deviceMemoryGiB: undefined }), 0, { engine: 'webllm', variant: 'phi-2-q4f16_1-MLC', reason: 'this adapter has shader-f16' }],
    [
      'buffer limit below what WebLLM can run with at all',
      'auto',
      adapter({ limits: { maxStorageBufferBindingSize: 64 * MiB } }),
      0,
      { engine: 'transformers.js', reason: "this adapter's maxStorageBufferBindingSize is 64 MB, below the 128 MB WebLLM needs" },
    ],
    [
      'too few storage buffers per shader stage',
      'auto',
      adapter({ limits: { maxStorageBuffersPerShaderStage: 8 } }),
      0,
      { engine: 'transformers.js', reason: "this adapter's maxStorageBuffersPerShaderStage is 8, below the 10 WebLLM needs" },
    ],
    [
      'too little workgroup storage',
      'auto',
      adapter({ limits: { maxComputeWorkgroupStorageSize: 16 * 1024 } }),
      0,
      { engine: 'transformers.js', reason: "this adapter's maxComputeWorkgroupStorageSize is 16 KB, below the 32 KB WebLLM needs" },
    ],
    ['one lost device: Auto tries the GPU again', 'auto', adapter(), 1, { engine: 'webllm', variant: 'phi-2-q4f16_1-MLC', reason: 'this adapter has shader-f16' }],
    ['two lost devices: Auto stays on the CPU', 'auto', adapter(), 2, { engine: 'transformers.js', reason: 'the GPU was lost 2 times in this session' }],
    ['GPU forced: keeps trying after lost devices', 'webgpu', adapter(), 3, { engine: 'webllm', variant: 'phi-2-q4f16_1-MLC', reason: 'this adapter has shader-f16' }],
    ['GPU forced without WebGPU: no engine, and why', 'webgpu', { status: 'no-webgpu' }, 0, { engine: 'none', reason: 'this browser has no WebGPU' }],
    ['GPU forced without an adapter', 'webgpu', { status: 'no-adapter' }, 0, { engine: 'none', reason: 'WebGPU found no graphics adapter' }],
  ];

  it.each(table)('%s', async (_name, preference, probe, losses, expected) => {
    const choice = await chooseEngine(preference, async () => probe, losses, phi2);
    expect({ engine: choice.engine, reason: choice.reason, ...(choice.engine === 'webllm' ? { variant: choice.variant.id } : {}) }).toEqual(expected);
  });

  it('does not probe the GPU at all when the CPU is forced', async () => {
    let probed = false;
    await chooseEngine('wasm', async () => {
      probed = true;
      return adapter();
    }, 0, phi2);
    expect(probed).toBe(false);
  });
});

describe('chooseEngine for a model other than phi-2', () => {
  const qwen = gpuCandidate('qwen2.5-0.5b-instruct');
  const choose = async (preference: EnginePreference, probe: GpuProbe, model: GpuCandidate) => {
    const choice = await chooseEngine(preference, async () => probe, 0, model);
    return { engine: choice.engine, reason: choice.reason, ...(choice.engine === 'webllm' ? { variant: choice.variant.id } : {}) };
  };

  it('takes its f16 build where the adapter has shader-f16, and its f32 build where not', async () => {
    expect(await choose('auto', adapter(), qwen)).toEqual({ engine: 'webllm', variant: 'Qwen2.5-0.5B-Instruct-q4f16_1-MLC', reason: 'this adapter has shader-f16' });
    expect(await choose('auto', swiftShader, qwen)).toEqual({ engine: 'webllm', variant: 'Qwen2.5-0.5B-Instruct-q4f32_1-MLC', reason: 'no shader-f16 on this adapter' });
  });

  it('keeps a build meant for small buffers and little memory, having no 1k variant to go to', async () => {
    const small = adapter({ deviceMemoryGiB: 1, limits: { maxStorageBufferBindingSize: 128 * MiB } });
    expect(await choose('auto', small, qwen)).toEqual({ engine: 'webllm', variant: 'Qwen2.5-0.5B-Instruct-q4f16_1-MLC', reason: 'this adapter has shader-f16' });
  });

  it('goes to the CPU, without probing, for a model with no GPU build; refuses when the GPU is forced', async () => {
    const cpuOnly: GpuCandidate = { name: 'phi-tiny', variants: [] };
    let probed = false;
    const choice = await chooseEngine('auto', async () => {
      probed = true;
      return adapter();
    }, 0, cpuOnly);
    expect(choice).toEqual({ engine: 'transformers.js', reason: 'phi-tiny has no GPU build' });
    expect(probed).toBe(false);
    expect(await choose('webgpu', adapter(), cpuOnly)).toEqual({ engine: 'none', reason: 'phi-tiny has no GPU build' });
  });

  it('says so when every GPU build needs shader-f16 and the adapter lacks it', async () => {
    const f16Only: GpuCandidate = { name: 'SmolLM2 360M Instruct', variants: gpuCandidate('smollm2-360m-instruct').variants.filter((v) => v.requiresShaderF16) };
    expect(await choose('auto', swiftShader, f16Only)).toEqual({
      engine: 'transformers.js',
      reason: 'every GPU build of SmolLM2 360M Instruct needs shader-f16, which this adapter lacks',
    });
  });
});
