import { describe, expect, it } from 'vitest';
import { allocateBytes, dataFileNames, MAX_BYTES, readWhole } from './external-data';

const streamed = (chunks: number[][], headers: Record<string, string> = {}) =>
  new Response(new ReadableStream({ start: (c) => (chunks.forEach((chunk) => c.enqueue(new Uint8Array(chunk))), c.close()) }), { headers });

describe('external data', () => {
  it('names the data files as transformers.js does', () => {
    expect(dataFileNames('decoder_model_merged', 'q8', 1)).toEqual(['onnx/decoder_model_merged_quantized.onnx_data']);
    expect(dataFileNames('model', 'fp32', 3)).toEqual(['onnx/model.onnx_data', 'onnx/model.onnx_data_1', 'onnx/model.onnx_data_2']);
    expect(dataFileNames('model', 'q4', 0)).toEqual([]);
  });

  it('reads a body into one buffer of its Content-Length, reporting progress', async () => {
    const seen: [number, number][] = [];
    const bytes = await readWhole(streamed([[1, 2], [3], [4, 5]], { 'Content-Length': '5' }), (loaded, total) => seen.push([loaded, total]));
    expect([...bytes]).toEqual([1, 2, 3, 4, 5]);
    expect(bytes.byteLength).toBe(5);
    expect(seen).toEqual([[2, 5], [3, 5], [5, 5]]);
  });

  it('gathers a body without a length, or longer than it said', async () => {
    expect([...(await readWhole(streamed([[1], [2, 3]]), () => {}))]).toEqual([1, 2, 3]);
    expect([...(await readWhole(streamed([[1, 2], [3, 4]], { 'Content-Length': '3' }), () => {}))]).toEqual([1, 2, 3, 4]);
  });

  it('refuses a body cut short', async () => {
    await expect(readWhole(streamed([[1, 2]], { 'Content-Length': '4' }), () => {})).rejects.toThrow('after 2 of 4 bytes');
  });

  it('allocates past the ArrayBuffer limit in WebAssembly memory, and no further', () => {
    // As Chromium, which makes no ArrayBuffer over 2 GiB (measured in the README).
    const limited = (limit: number) => (n: number) => {
      if (n > limit) throw new RangeError('Array buffer allocation failed');
      return new Uint8Array(n);
    };
    const bytes = allocateBytes(3 * 65536 + 1, limited(65536));
    expect(bytes.byteLength).toBe(3 * 65536 + 1);
    expect(bytes.buffer.byteLength).toBe(4 * 65536);
    bytes[bytes.byteLength - 1] = 7;
    expect(bytes.at(-1)).toBe(7);
    expect(allocateBytes(10, limited(65536)).buffer.byteLength).toBe(10);
    expect(() => allocateBytes(MAX_BYTES + 1, limited(65536))).toThrow(RangeError);
  });
});
