import { describe, expect, it } from 'vitest';
import { checkModelFolder, filesFromInput, filesToStore, type FolderFile } from './model-folder';
import { choiceLabel, detectWeights, hubRepo } from './model-detect';

const TINY = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx'];
const EXTERNAL = ['config.json', 'tokenizer.json', 'onnx/decoder_model_merged_quantized.onnx', 'onnx/decoder_model_merged_quantized.onnx_data'];

describe('filesFromInput', () => {
  it("takes the model's name from the chosen folder and each path inside it", () => {
    const file = (path: string) => Object.defineProperty(new File(['x'], path.split('/').at(-1)!), 'webkitRelativePath', { value: path });
    const { name, files } = filesFromInput([file('phi-tiny/config.json'), file('phi-tiny/onnx/model.onnx')]);
    expect(name).toBe('phi-tiny');
    expect(files.map((f) => f.path)).toEqual(['config.json', 'onnx/model.onnx']);
  });
});

describe('checkModelFolder', () => {
  it('accepts a transformers.js folder and finds its weights', () => {
    expect(checkModelFolder('phi-tiny', TINY, {})).toEqual({ ok: true, choices: [{ file: 'model', dtype: 'fp32', externalData: false }] });
    expect(checkModelFolder('phi-2', EXTERNAL, {})).toEqual({ ok: true, choices: [{ file: 'decoder_model_merged', dtype: 'q8', externalData: true }] });
  });

  it('names the file a folder lacks', () => {
    expect(checkModelFolder('m', TINY.slice(1), null)).toEqual({ ok: false, message: 'The folder "m" has no config.json: it is not a transformers.js model folder.' });
    expect(checkModelFolder('m', ['config.json', 'onnx/model.onnx'], {})).toEqual({ ok: false, message: 'The folder "m" has no tokenizer.json: it is not a transformers.js model folder.' });
    expect(checkModelFolder('m', ['config.json', 'tokenizer.json', 'README.md'], {})).toEqual({
      ok: false,
      message: 'The folder "m" has no weights: no onnx/model*.onnx or onnx/decoder_model_merged*.onnx.',
    });
  });

  it('refuses a config.json that is not JSON', () => {
    expect(checkModelFolder('m', TINY, undefined)).toEqual({ ok: false, message: 'config.json is broken or not part of a transformers.js model.' });
  });

  it('names the data file that config.json says the graph needs', () => {
    const config = { 'transformers.js_config': { use_external_data_format: true } };
    expect(checkModelFolder('m', EXTERNAL.slice(0, 3), config)).toEqual({
      ok: false,
      message: 'Missing weights file onnx/decoder_model_merged_quantized.onnx_data: config.json says onnx/decoder_model_merged_quantized.onnx keeps its weights in it.',
    });
  });
});

describe('filesToStore', () => {
  it("keeps the folder's JSON files and the chosen graph with its data, not the other weights", () => {
    const files = [...EXTERNAL, 'onnx/model.onnx', 'README.md'].map((path): FolderFile => ({ path, file: new File([], path) }));
    expect(filesToStore(files, { file: 'decoder_model_merged', dtype: 'q8', externalData: true }).map((f) => f.path)).toEqual(EXTERNAL);
  });
});

describe('detectWeights', () => {
  /** A static server holding `paths` under https://m.example/phi/, which answers HEAD. */
  const serverWith = (paths: string[], asked: string[] = []) =>
    (async (input: RequestInfo | URL) => {
      const url = String(input);
      asked.push(url);
      return new Response(null, { status: paths.some((p) => url === `https://m.example/phi/${p}`) ? 200 : 404 });
    }) as typeof fetch;

  it('probes every graph and dtype and finds the one there', async () => {
    expect(await detectWeights('https://m.example/phi/', serverWith(EXTERNAL))).toEqual({
      kind: 'found',
      choices: [{ file: 'decoder_model_merged', dtype: 'q8', externalData: false }],
    });
  });

  it('offers every set found, preferred first', async () => {
    const found = await detectWeights('https://m.example/phi/', serverWith(['onnx/model.onnx', 'onnx/model_q4.onnx']));
    expect(found.kind === 'found' && found.choices.map(choiceLabel)).toEqual(['q4 · onnx/model_q4.onnx', 'fp32 · onnx/model.onnx']);
  });

  it('says none were found, with what it tried, or that it cannot tell', async () => {
    const none = await detectWeights('https://m.example/phi/', serverWith([]));
    expect(none.kind === 'none' && none.tried.length).toBe(10);
    const refused = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    expect(await detectWeights('https://m.example/phi/', refused)).toEqual({ kind: 'unknown' });
  });

  it("reads a Hugging Face repository's onnx/ listing instead of probing", async () => {
    const asked: string[] = [];
    const hub = (async (input: RequestInfo | URL) => {
      asked.push(String(input));
      return Response.json([
        { type: 'file', path: 'onnx/model_q4f16.onnx' },
        { type: 'file', path: 'onnx/model_quantized.onnx' },
        { type: 'file', path: 'onnx/model_quantized.onnx_data' },
      ]);
    }) as typeof fetch;
    expect(await detectWeights('https://huggingface.co/owner/model/resolve/main/', hub)).toEqual({
      kind: 'found',
      choices: [
        { file: 'model', dtype: 'q8', externalData: true },
        { file: 'model', dtype: 'q4f16', externalData: false },
      ],
    });
    expect(asked).toEqual(['https://huggingface.co/api/models/owner/model/tree/main/onnx']);
  });
});

describe('hubRepo', () => {
  it('recognises a repository folder URL, and nothing else', () => {
    expect(hubRepo('https://huggingface.co/BricksDisplay/phi-2-q4/resolve/main/')).toBe('BricksDisplay/phi-2-q4');
    expect(hubRepo('https://huggingface.co/BricksDisplay/phi-2-q4/')).toBe('BricksDisplay/phi-2-q4');
    expect(hubRepo('https://example.com/BricksDisplay/phi-2-q4/')).toBeNull();
    expect(hubRepo('https://huggingface.co/datasets/x/y/z/')).toBeNull();
  });
});
