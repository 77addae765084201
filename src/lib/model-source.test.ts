import { describe, expect, it } from 'vitest';
import { memoryStorage, pageAt as page } from './memory-storage';
import {
  choiceLoadModel,
  choiceName,
  choiceSource,
  DEFAULT_CHOICE,
  DEFAULT_SOURCE,
  isStored,
  modelDisplayName,
  readChoice,
  resolveChoice,
  saveChoice,
  shortModelName,
  validateModelUrl,
} from './model-source';

describe('model choice', () => {
  it('defaults to phi-2 from the catalog, with the hosted phi-2 export for the CPU', () => {
    expect(resolveChoice(page(), memoryStorage())).toEqual(DEFAULT_CHOICE);
    expect(choiceSource(DEFAULT_CHOICE)).toEqual(DEFAULT_SOURCE);
    expect(choiceName(DEFAULT_CHOICE)).toBe('phi-2');
  });

  it('takes a ?model= link, relative or absolute, with dtype and file, as a custom model for the CPU', () => {
    const linked = resolveChoice(page('?model=/models/tiny&dtype=fp32'), memoryStorage());
    expect(linked).toEqual({ kind: 'custom', source: { id: 'http://app.test/models/tiny/', dtype: 'fp32', file: 'model', externalData: false } });
    expect(choiceName(linked)).toBe('tiny');
    expect(choiceLoadModel(linked)).toEqual({ name: 'tiny', gpuVariants: [] });
    expect(resolveChoice(page('?model=https://cdn.example/m/&dtype=bogus&file=decoder'), memoryStorage())).toMatchObject({
      source: { id: 'https://cdn.example/m/', dtype: 'q8', file: 'decoder', externalData: false },
    });
  });

  it('loads the weights from an .onnx_data file when the link says external=1', () => {
    expect(choiceSource(resolveChoice(page('?model=/models/phi-2/&dtype=q8&file=decoder_model_merged&external=1'), memoryStorage()))).toEqual({
      id: 'http://app.test/models/phi-2/',
      dtype: 'q8',
      file: 'decoder_model_merged',
      externalData: true,
    });
  });

  it('takes a folder as a catalog model’s CPU build with as=, keeping that model’s GPU builds', () => {
    const choice = resolveChoice(page('?model=/models/phi-2/&as=phi-2'), memoryStorage());
    expect(choice).toMatchObject({ kind: 'catalog', id: 'phi-2', cpuSource: { id: 'http://app.test/models/phi-2/' } });
    expect(choiceSource(choice)?.id).toBe('http://app.test/models/phi-2/');
    expect(choiceLoadModel(choice).gpuVariants.map((v) => v.id)).toContain('phi-2-q4f32_1-MLC');
  });

  it('refuses non-http model URLs', () => {
    expect(() => validateModelUrl('javascript:alert(1)', 'http://app.test/')).toThrow(/http/);
    expect(() => validateModelUrl('   ', 'http://app.test/')).toThrow(/Enter/);
  });

  it('remembers the chosen model, catalog or custom, and forgets it when phi-2 is chosen again', () => {
    const storage = memoryStorage();
    const custom = { kind: 'custom', source: { id: 'https://m.example/x/', dtype: 'q4', file: 'model', externalData: false } } as const;
    saveChoice(custom, storage);
    expect(resolveChoice(page(), storage)).toEqual(custom);
    saveChoice({ kind: 'catalog', id: 'qwen2.5-0.5b-instruct' }, storage);
    expect(resolveChoice(page(), storage)).toEqual({ kind: 'catalog', id: 'qwen2.5-0.5b-instruct' });
    saveChoice(DEFAULT_CHOICE, storage);
    expect(storage.getItem('phi-chat.model')).toBeNull();
    expect(resolveChoice(page(), storage)).toEqual(DEFAULT_CHOICE);
  });

  it('still reads a custom folder saved before the catalog', () => {
    const saved = { id: 'https://m.example/x/', dtype: 'q4', file: 'model', externalData: false };
    expect(resolveChoice(page(), memoryStorage({ 'phi-chat.model-source': JSON.stringify(saved) }))).toEqual({ kind: 'custom', source: saved });
  });

  it('ignores a corrupt or unknown saved choice', () => {
    expect(resolveChoice(page(), memoryStorage({ 'phi-chat.model-source': '{not json' }))).toEqual(DEFAULT_CHOICE);
    expect(resolveChoice(page(), memoryStorage({ 'phi-chat.model': '{"kind":"catalog","id":"gone"}' }))).toEqual(DEFAULT_CHOICE);
    expect(readChoice({ kind: 'custom', source: { id: 'javascript:x', dtype: 'q8', file: 'model' } })).toBeUndefined();
  });

  it('shortens a folder URL or repo id to its last segment for the status line', () => {
    expect(shortModelName('http://127.0.0.1:4173/models/phi-tiny/')).toBe('phi-tiny');
    expect(shortModelName('BricksDisplay/phi-2-q4')).toBe('phi-2-q4');
    expect(shortModelName('local:my-model')).toBe('my-model (from disk)');
  });

  it('calls a catalog model by its name, from its CPU or GPU id, and any other by its short name', () => {
    expect(modelDisplayName(DEFAULT_SOURCE.id)).toBe('phi-2');
    expect(modelDisplayName('SmolLM2-360M-Instruct-q4f32_1-MLC')).toBe('SmolLM2 360M Instruct');
    expect(modelDisplayName('http://127.0.0.1:4173/models/phi-tiny/')).toBe('phi-tiny');
  });
});

describe('stored models', () => {
  it('finds a source’s files in the weights store by the URLs they were downloaded from', () => {
    const urls = ['https://huggingface.co/BricksDisplay/phi-2-q4/resolve/main/config.json', 'http://127.0.0.1:4320/models/phi-tiny/onnx/model.onnx'];
    expect(isStored(DEFAULT_SOURCE, urls)).toBe(true);
    expect(isStored({ id: 'http://127.0.0.1:4320/models/phi-tiny/', dtype: 'fp32', file: 'model', externalData: false }, urls)).toBe(true);
    expect(isStored({ id: 'http://127.0.0.1:4320/models/phi-tiny-b/', dtype: 'fp32', file: 'model', externalData: false }, urls)).toBe(false);
    expect(isStored({ id: 'onnx-community/Qwen2.5-0.5B-Instruct', dtype: 'q8', file: 'model', externalData: false }, urls)).toBe(false);
  });
});
