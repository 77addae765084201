import { describe, expect, it } from 'vitest';
import { explainWebLLMError, STORAGE_FULL } from './webllm-errors';

/** An error as @mlc-ai/web-llm 0.2.86 throws it: its class name and its message, verbatim. */
function webllmError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

describe('explainWebLLMError', () => {
  it.each([
    [
      'device lost while loading (usually out of memory)',
      webllmError('DeviceLostError', 'The WebGPU device was lost while loading the model. This issue often occurs due to running out of memory (OOM). To resolve this, try reloading with a model that has fewer parameters or uses a smaller context length.'),
      'The GPU ran out of memory or was reset while loading the model.',
    ],
    [
      'missing shader-f16',
      webllmError('ShaderF16SupportError', 'This model requires WebGPU extension shader-f16, which is not enabled in this browser. You can try to launch Chrome Canary in command line with flag "--enable-dawn-features=allow_unsafe_apis".'),
      'This graphics adapter lacks shader-f16, which this model variant needs.',
    ],
    [
      'another missing feature',
      webllmError('FeatureSupportError', 'This model requires feature subgroups, which is not yet supported by this browser.'),
      'This graphics adapter lacks subgroups, which this model needs.',
    ],
    [
      'no WebGPU',
      webllmError('WebGPUNotAvailableError', 'WebGPU is not supported in your current environment, but it is necessary to run the WebLLM engine. … visit https://webgpureport.org/'),
      'This browser does not offer WebGPU.',
    ],
    [
      'no adapter',
      new Error("Unable to find a compatible GPU. This issue might be because your computer doesn't have a GPU, or your system settings are not configured properly."),
      'WebGPU found no graphics adapter.',
    ],
    [
      'a limit too small',
      new Error('Cannot initialize runtime because of requested maxStorageBufferBindingSize exceeds limit. requested=128MB, limit=64MB. '),
      "This graphics adapter's maxStorageBufferBindingSize is too small for WebLLM.",
    ],
    [
      'a file the server does not have',
      new Error('Failed to store http://127.0.0.1:4173/webllm/phi-2-q4f32_1-MLC/resolve/main/mlc-chat-config.json with error: Error: Network response was not ok'),
      'Could not download http://127.0.0.1:4173/webllm/phi-2-q4f32_1-MLC/resolve/main/mlc-chat-config.json.',
    ],
    [
      'a file the network did not deliver',
      new Error('Failed to store https://huggingface.co/mlc-ai/phi-2-q4f32_1-MLC/resolve/main/tensor-cache.json with error: TypeError: Failed to fetch'),
      'Could not download https://huggingface.co/mlc-ai/phi-2-q4f32_1-MLC/resolve/main/tensor-cache.json: the network request failed.',
    ],
    ['GPU out of memory', new Error('GPUOutOfMemoryError: Out of memory'), 'The GPU ran out of memory.'],
    ['anything else, first line only', new Error('InternalError: failed to sample a valid token.\n    at sample'), 'WebLLM failed: InternalError: failed to sample a valid token.'],
  ])('%s', (_case, error, sentence) => {
    expect(explainWebLLMError(error)).toBe(sentence);
  });
});

describe('explainWebLLMError on a full disk', () => {
  const shard = 'https://huggingface.co/mlc-ai/phi-2-q4f32_1-MLC/resolve/main/params_shard_12.bin';
  const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  it.each([
    // ArtifactIndexedDBCache.addToCache: `throw Error("Failed to store " + url + " with error: " + error)`.
    ['the IndexedDB write, rewrapped with the download', new Error(`Failed to store ${shard} with error: ${String(quota())}`)],
    // Chromium's wording when the disk itself is full.
    ['a full disk under IndexedDB', new Error(`Failed to store ${shard} with error: UnknownError: Encountered full disk while opening backing store for indexedDB.open.`)],
    // The Cache API and OPFS backends let the DOMException through.
    ['the bare DOMException', quota()],
    ['the DOMException as a cause', new Error('Loading failed', { cause: quota() })],
  ])('%s says storage is full and what to do', (_, error) => {
    expect(explainWebLLMError(error)).toBe(STORAGE_FULL);
  });

  it('still calls a failed download a download failure', () => {
    expect(explainWebLLMError(new Error(`Failed to store ${shard} with error: TypeError: Failed to fetch`))).toBe(
      `Could not download ${shard}: the network request failed.`,
    );
  });
});
