import { afterEach, describe, expect, it, vi } from 'vitest';
import { PHI2 } from '../src/lib/model-catalog';
import { chooseEngine } from './engine-select';
import { adapterName, probeGpu, readAdapterInfo } from './gpu-probe';

const LIMITS = {
  maxBufferSize: 2 ** 30,
  maxStorageBufferBindingSize: 2 ** 30,
  maxComputeWorkgroupStorageSize: 32 * 1024,
  maxStorageBuffersPerShaderStage: 10,
};

/** A WebGPU adapter as some browser hands it out; `extra` says which ways of reading its info it has. */
function fakeAdapter(extra: Record<string, unknown>): GPUAdapter {
  return { features: new Set(['subgroups']), limits: LIMITS, ...extra } as unknown as GPUAdapter;
}

function withAdapter(adapter: GPUAdapter | (() => never)) {
  vi.stubGlobal('navigator', {
    gpu: { requestAdapter: async () => (typeof adapter === 'function' ? adapter() : adapter) },
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('reading what an adapter says about itself', () => {
  it.each([
    ['`info`, as current browsers have it', { info: { vendor: 'google', architecture: 'swiftshader', description: '' } }, 'google swiftshader'],
    ['only `requestAdapterInfo()`, as browsers before `info` had it', { requestAdapterInfo: async () => ({ vendor: 'intel', architecture: 'gen-12lp', description: '' }) }, 'intel gen-12lp'],
    ['neither', {}, 'unnamed adapter'],
    ['a `requestAdapterInfo()` that rejects', { requestAdapterInfo: async () => Promise.reject(new Error('not allowed')) }, 'unnamed adapter'],
  ])('with %s', async (_, extra, name) => {
    expect(adapterName(await readAdapterInfo(fakeAdapter(extra)))).toBe(name);
  });

  it('names an adapter from whatever fields it has, or says it has none', () => {
    expect(adapterName({ description: 'NVIDIA GeForce RTX 4070' })).toBe('NVIDIA GeForce RTX 4070');
    expect(adapterName({ vendor: 'apple' })).toBe('apple');
    expect(adapterName(undefined)).toBe('unnamed adapter');
  });
});

describe('probing the GPU', () => {
  it('describes an adapter that has no `info`', async () => {
    withAdapter(fakeAdapter({}));
    const probe = await probeGpu();
    expect(probe).toMatchObject({ status: 'adapter', adapter: { name: 'unnamed adapter', features: ['subgroups'], limits: LIMITS } });
  });

  it('turns any failure while looking into a reason for the CPU, never a rejection', async () => {
    const unreadable = fakeAdapter({});
    Object.defineProperty(unreadable, 'limits', { get: () => { throw new TypeError('limits are gone'); } });
    withAdapter(unreadable);
    const probe = await probeGpu();
    expect(probe).toEqual({ status: 'adapter-error', message: 'limits are gone' });
    await expect(chooseEngine('auto', () => Promise.resolve(probe), 0, { name: 'phi-2', variants: PHI2.gpu!.variants })).resolves.toEqual({
      engine: 'transformers.js',
      reason: 'WebGPU could not open the graphics adapter',
    });
  });

  it('reports an adapter request that throws', async () => {
    withAdapter(() => {
      throw new DOMException('the GPU process crashed', 'OperationError');
    });
    await expect(probeGpu()).resolves.toEqual({ status: 'adapter-error', message: 'the GPU process crashed' });
  });
});
