import { modelLibURLPrefix, modelVersion } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import { memoryStorage, pageAt as page } from './memory-storage';
import { HOSTED_GPU_SOURCE, mirrorSource, resolveGpuSource, resolvePreference, saveGpuSource, savePreference } from './engine-settings';


describe('engine preference', () => {
  it('defaults to Auto, remembers a forced engine, and ignores junk', () => {
    const storage = memoryStorage();
    expect(resolvePreference(storage)).toBe('auto');
    savePreference('wasm', storage);
    expect(resolvePreference(storage)).toBe('wasm');
    savePreference('auto', storage);
    expect(resolvePreference(storage)).toBe('auto');
    expect(resolvePreference(memoryStorage({ 'phi-chat.engine': 'quantum' }))).toBe('auto');
  });
});

describe('WebLLM source', () => {
  it('defaults to the files the installed WebLLM itself would fetch', () => {
    expect(resolveGpuSource(page(), memoryStorage())).toEqual(HOSTED_GPU_SOURCE);
    expect(HOSTED_GPU_SOURCE.libBaseUrl).toBe(`${modelLibURLPrefix}${modelVersion}/`);
  });

  it('takes a ?webllm= mirror link, relative or absolute', () => {
    expect(resolveGpuSource(page('?webllm=/mirror'), memoryStorage())).toEqual(mirrorSource('http://app.test/mirror/'));
    expect(resolveGpuSource(page('?webllm=https://cdn.example/webllm/'), memoryStorage())).toEqual(mirrorSource('https://cdn.example/webllm/'));
    expect(() => resolveGpuSource(page('?webllm=ftp://x/'), memoryStorage())).toThrow(/http/);
  });

  it('remembers a saved mirror, forgets it for the hosted files, and ignores a corrupt one', () => {
    const storage = memoryStorage();
    saveGpuSource(mirrorSource('https://m.example/webllm/'), storage);
    expect(resolveGpuSource(page(), storage)).toEqual(mirrorSource('https://m.example/webllm/'));
    saveGpuSource(HOSTED_GPU_SOURCE, storage);
    expect(resolveGpuSource(page(), storage)).toEqual(HOSTED_GPU_SOURCE);
    expect(resolveGpuSource(page(), memoryStorage({ 'phi-chat.webllm-mirror': 'javascript:alert(1)' }))).toEqual(HOSTED_GPU_SOURCE);
  });
});
