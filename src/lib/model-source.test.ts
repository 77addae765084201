import { describe, expect, it } from 'vitest';
import { memoryStorage, pageAt as page } from './memory-storage';
import { DEFAULT_SOURCE, modelDisplayName, resolveSource, saveSource, shortModelName, validateModelUrl } from './model-source';


describe('model source', () => {
  it('defaults to the hosted phi-2 export', () => {
    expect(resolveSource(page(), memoryStorage())).toEqual(DEFAULT_SOURCE);
  });

  it('takes a ?model= link, relative or absolute, with dtype and file', () => {
    expect(resolveSource(page('?model=/models/tiny&dtype=fp32'), memoryStorage())).toEqual({
      id: 'http://app.test/models/tiny/',
      dtype: 'fp32',
      file: 'model',
      externalData: false,
    });
    expect(resolveSource(page('?model=https://cdn.example/m/&dtype=bogus&file=decoder'), memoryStorage())).toMatchObject({
      id: 'https://cdn.example/m/',
      dtype: 'q8',
      file: 'decoder',
      externalData: false,
    });
  });

  it('loads the weights from an .onnx_data file when the link says external=1', () => {
    expect(resolveSource(page('?model=/models/phi-2/&dtype=q8&file=decoder_model_merged&external=1'), memoryStorage())).toEqual({
      id: 'http://app.test/models/phi-2/',
      dtype: 'q8',
      file: 'decoder_model_merged',
      externalData: true,
    });
  });

  it('refuses non-http model URLs', () => {
    expect(() => validateModelUrl('javascript:alert(1)', 'http://app.test/')).toThrow(/http/);
    expect(() => validateModelUrl('   ', 'http://app.test/')).toThrow(/Enter/);
  });

  it('remembers a saved custom source and forgets it when the default is chosen again', () => {
    const storage = memoryStorage();
    const custom = { id: 'https://m.example/x/', dtype: 'q4' as const, file: 'model', externalData: false };
    saveSource(custom, storage);
    expect(resolveSource(page(), storage)).toEqual(custom);
    saveSource(DEFAULT_SOURCE, storage);
    expect(resolveSource(page(), storage)).toEqual(DEFAULT_SOURCE);
  });

  it('ignores a corrupt saved setting', () => {
    expect(resolveSource(page(), memoryStorage({ 'phi-chat.model-source': '{not json' }))).toEqual(DEFAULT_SOURCE);
  });

  it('shortens a folder URL or repo id to its last segment for the status line', () => {
    expect(shortModelName('http://127.0.0.1:4173/models/phi-tiny/')).toBe('phi-tiny');
    expect(shortModelName('BricksDisplay/phi-2-q4')).toBe('phi-2-q4');
    expect(shortModelName('local:my-model')).toBe('my-model (from disk)');
  });

  it('calls the default model phi-2 and any other by its short name', () => {
    expect(modelDisplayName(DEFAULT_SOURCE.id)).toBe('phi-2');
    expect(modelDisplayName('http://127.0.0.1:4173/models/phi-tiny/')).toBe('phi-tiny');
  });
});
