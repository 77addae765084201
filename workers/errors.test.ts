import { describe, expect, it } from 'vitest';
import { describeError, ModelFileError } from './errors';
import { PromptTooLongError } from './prompt';

describe('describeError', () => {
  it('names a file whose download failed, with its status', () => {
    const error = new ModelFileError('https://m.example/x/tokenizer.json (HTTP 404)', new TypeError("Cannot read properties of undefined (reading 'tokenizer_class')"));
    expect(describeError(error).message).toBe('Could not download https://m.example/x/tokenizer.json (HTTP 404).');
  });

  it('names a file that downloaded but is broken, keeping the technical text as detail', () => {
    const result = describeError(new ModelFileError('onnx/model.onnx', new Error("Can't create a session: protobuf parsing failed")));
    expect(result.message).toBe('onnx/model.onnx is broken or not part of a transformers.js model.');
    expect(result.detail).toContain('protobuf parsing failed');
  });

  it('says when the network itself failed', () => {
    expect(describeError(new ModelFileError('config.json', new TypeError('Failed to fetch'))).message).toBe(
      'Could not download config.json: the network request failed.',
    );
  });

  it('passes a too-long message through as the user-facing sentence', () => {
    expect(describeError(new PromptTooLongError(3000, 1792)).message).toMatch(/needs 3000 tokens, but only 1792 fit/);
  });

  it('recognises running out of memory', () => {
    expect(describeError(new RangeError('WebAssembly.Memory(): could not allocate memory')).message).toBe(
      'The device ran out of memory while running the model.',
    );
  });

  it("names WebAssembly's 4 GB when onnxruntime's heap is full (what phi-2 with a long prompt did)", () => {
    const error = new Error('failed to call OrtRun(). ERROR_CODE: 6, ERROR_MESSAGE: std::bad_alloc');
    expect(describeError(error)).toMatchObject({ message: expect.stringContaining('WebAssembly gives it at most 4 GB'), detail: expect.stringContaining('std::bad_alloc') });
  });
});
