import { describe, expect, it } from 'vitest';
import { configExternalData, probeFile, probeOrder, weightsInFolder } from './model-files';
import type { ModelSource } from './protocol';
import { externalDataFor } from './transformers-engine';

describe('probeOrder', () => {
  it('tries q8 first and fp32 last, for a plain export and for a merged decoder', () => {
    expect(probeOrder().map(({ file, dtype }) => `${dtype}:${file}`)).toEqual([
      'q8:model', 'q8:decoder_model_merged',
      'q4:model', 'q4:decoder_model_merged',
      'q4f16:model', 'q4f16:decoder_model_merged',
      'fp16:model', 'fp16:decoder_model_merged',
      'fp32:model', 'fp32:decoder_model_merged',
    ]);
  });
});

describe('weightsInFolder', () => {
  it('finds each graph with its dtype and whether its data file is there, preferred first', () => {
    expect(
      weightsInFolder([
        'config.json',
        'onnx/model.onnx',
        'onnx/model_q4f16.onnx',
        'onnx/decoder_model_merged_quantized.onnx',
        'onnx/decoder_model_merged_quantized.onnx_data',
        'onnx/decoder_model.onnx',
        'onnx/model_bnb4.onnx',
      ]),
    ).toEqual([
      { file: 'decoder_model_merged', dtype: 'q8', externalData: true },
      { file: 'model', dtype: 'q4f16', externalData: false },
      { file: 'model', dtype: 'fp32', externalData: false },
    ]);
  });
});

describe('configExternalData', () => {
  const config = (value: unknown) => ({ 'transformers.js_config': { use_external_data_format: value } });

  it('reads a flag, a chunk count or a map by file name, as transformers.js does', () => {
    expect(configExternalData(config(true), 'model', 'q8')).toBe(1);
    expect(configExternalData(config(false), 'model', 'q8')).toBe(0);
    expect(configExternalData(config(2), 'model', 'q8')).toBe(2);
    expect(configExternalData(config({ 'model_quantized.onnx': true }), 'model', 'q8')).toBe(1);
    expect(configExternalData(config({ model: 1 }), 'model', 'fp16')).toBe(1);
  });

  it('is undefined where the config says nothing about the graph', () => {
    expect(configExternalData({}, 'model', 'q8')).toBeUndefined();
    expect(configExternalData({ 'transformers.js_config': { dtype: 'fp32' } }, 'model', 'q8')).toBeUndefined();
    expect(configExternalData(config({ 'other.onnx': true }), 'model', 'q8')).toBeUndefined();
    expect(configExternalData(null, 'model', 'q8')).toBeUndefined();
  });
});

describe('externalDataFor', () => {
  const source = (externalData: boolean): ModelSource => ({ id: 'https://x/m/', dtype: 'q8', file: 'decoder_model_merged', externalData });
  const says = (value: unknown) => ({ 'transformers.js_config': { use_external_data_format: value } });

  it('reads at least one data file for an explicit external=1, as many as the config names', () => {
    expect(externalDataFor(source(true), {}, 'present')).toEqual({ chunks: 1, missing: false });
    expect(externalDataFor(source(true), {}, 'unknown')).toEqual({ chunks: 1, missing: false });
    expect(externalDataFor(source(true), says(3), 'present')).toEqual({ chunks: 3, missing: false });
  });

  it("follows the folder's config where the config says, a no included", () => {
    expect(externalDataFor(source(false), says(true), 'present')).toEqual({ chunks: 1, missing: false });
    expect(externalDataFor(source(false), says(2), 'present')).toEqual({ chunks: 2, missing: false });
    expect(externalDataFor(source(false), says(false), 'present')).toEqual({ chunks: 0, missing: false });
  });

  it('uses a data file that exists where the config says nothing (the bug: it was never requested)', () => {
    expect(externalDataFor(source(false), {}, 'present')).toEqual({ chunks: 1, missing: false });
    expect(externalDataFor(source(false), {}, 'absent')).toEqual({ chunks: 0, missing: false });
    expect(externalDataFor(source(false), {}, 'unknown')).toEqual({ chunks: 0, missing: false });
  });

  it('calls a data file missing when the link or the config needs it and the server has none', () => {
    expect(externalDataFor(source(true), {}, 'absent').missing).toBe(true);
    expect(externalDataFor(source(false), says(true), 'absent').missing).toBe(true);
  });
});

describe('probeFile', () => {
  const answering = (...responses: (Response | Error)[]) => {
    const asked: string[] = [];
    const fetchFile = (async (_url: RequestInfo | URL, init?: RequestInit) => {
      asked.push(init?.method ?? `GET ${new Headers(init?.headers).get('Range')}`);
      const next = responses.shift()!;
      if (next instanceof Error) throw next;
      return next;
    }) as typeof fetch;
    return { fetchFile, asked };
  };

  it('asks with HEAD', async () => {
    expect(await probeFile('u', answering(new Response(null, { status: 200 })).fetchFile)).toBe('present');
    expect(await probeFile('u', answering(new Response(null, { status: 404 })).fetchFile)).toBe('absent');
  });

  it('falls back to the first byte where HEAD is not allowed', async () => {
    const { fetchFile, asked } = answering(new Response(null, { status: 405 }), new Response('x', { status: 206 }));
    expect(await probeFile('u', fetchFile)).toBe('present');
    expect(asked).toEqual(['HEAD', 'GET bytes=0-0']);
  });

  it("takes a host's HTML page for a missing file, and a refused request for no answer", async () => {
    expect(await probeFile('u', answering(new Response(null, { headers: { 'Content-Type': 'text/html' } })).fetchFile)).toBe('absent');
    expect(await probeFile('u', answering(new TypeError('Failed to fetch')).fetchFile)).toBe('unknown');
    expect(await probeFile('u', answering(new Response(null, { status: 500 })).fetchFile)).toBe('unknown');
  });
});
