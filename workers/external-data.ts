import { WASM_HEAP_BYTES } from './heap-budget';
import { onnxPath } from './model-files';
import type { Dtype } from './protocol';

/**
 * A graph's external-data files, read by the worker itself rather than by transformers.js.
 *
 * transformers.js reads a file into `new Uint8Array(size)`, and Chromium makes no ArrayBuffer over
 * 2 GiB ("Array buffer allocation failed"), so phi-2's 2.78 GB `.onnx_data` could never load on the
 * CPU. And any whole copy in JS doubles the memory a load peaks at: onnxruntime-web copies every
 * tensor into its own WebAssembly heap, so for a moment both hold all the weights.
 *
 * So a file that is in the weights store is handed over as `storedBytes`: onnxruntime-web reads a
 * mounted data file only through its `byteLength` and `subarray(start, end)`, one tensor at a time,
 * synchronously (its `mountExternalData` and the reader it calls from WebAssembly, in
 * `ort-wasm-simd-threaded*.mjs`), and a dedicated worker can read a slice of a stored Blob
 * synchronously with FileReaderSync. Only one tensor's bytes are ever in JS. Where that cannot be
 * (nothing stored: no room, or no FileReaderSync), the file is read whole, into a
 * WebAssembly.Memory's buffer past the ArrayBuffer limit (`readWhole`). The e2e tests load the
 * phi-2-shaped model with external data both ways, so an onnxruntime that read mounted files
 * otherwise would fail them.
 */

/** `onnx/<graph>.onnx_data`, then `…onnx_data_1`, `_2`… for a graph split into `chunks` files, as transformers.js names them. */
export function dataFileNames(file: string, dtype: Dtype, chunks: number): string[] {
  return Array.from({ length: chunks }, (_, i) => `${onnxPath(file, dtype)}_data${i === 0 ? '' : `_${i}`}`);
}

const WASM_PAGE = 65536;
/** The largest WebAssembly.Memory: wasm32's 4 GiB. */
export const MAX_BYTES = WASM_HEAP_BYTES;

/** `size` zeroed bytes: an ArrayBuffer where the browser makes one that large, else a WebAssembly.Memory's buffer. */
export function allocateBytes(size: number, plain: (size: number) => Uint8Array = (n) => new Uint8Array(n)): Uint8Array {
  try {
    return plain(size);
  } catch (error) {
    if (!(error instanceof RangeError) || size > MAX_BYTES) throw error;
    const pages = Math.ceil(size / WASM_PAGE);
    return new Uint8Array(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer, 0, size);
  }
}

/**
 * A whole response body in one buffer, read as it streams (never a second whole copy), reporting
 * the bytes read. Without a Content-Length, the chunks are gathered first and copied once at the end.
 */
export async function readWhole(response: Response, onProgress: (loaded: number, total: number) => void): Promise<Uint8Array> {
  const length = Number(response.headers.get('Content-Length') ?? NaN);
  const chunks: Uint8Array[] = [];
  let buffer = Number.isFinite(length) ? allocateBytes(length) : null;
  const loaded = await eachChunk(response, onProgress, (value, offset) => {
    if (buffer && offset + value.byteLength > buffer.byteLength) {
      // The server sent more than it said: fall back to gathering.
      chunks.push(buffer.subarray(0, offset));
      buffer = null;
    }
    if (buffer) buffer.set(value, offset);
    else chunks.push(value);
  });
  if (buffer) {
    if (loaded < buffer.byteLength) throw new Error(`The download ended after ${loaded} of ${buffer.byteLength} bytes.`);
    return buffer;
  }
  const whole = allocateBytes(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return whole;
}

/**
 * The bytes of a stored file, read from it a slice at a time when asked (see above), or null where
 * FileReaderSync is missing (not a dedicated worker). It is a Uint8Array only so that
 * onnxruntime-web takes it as one; it has no elements of its own.
 */
export function storedBytes(blob: Blob): Uint8Array | null {
  if (typeof FileReaderSync === 'undefined') return null;
  const reader = new FileReaderSync();
  const bytes = new Uint8Array(0);
  Object.defineProperties(bytes, {
    byteLength: { value: blob.size },
    subarray: { value: (start = 0, end = blob.size) => new Uint8Array(reader.readAsArrayBuffer(blob.slice(start, end))) },
  });
  return bytes;
}

/** Reads a response to its end, keeping nothing (the weights store keeps it as it streams past), reporting the bytes read. */
export async function drain(response: Response, onProgress: (loaded: number, total: number) => void): Promise<void> {
  await eachChunk(response, onProgress, () => {});
}

/** Hands each chunk of a body to `each` with its offset, reporting progress after it; resolves to the bytes read. */
async function eachChunk(response: Response, onProgress: (loaded: number, total: number) => void, each: (chunk: Uint8Array, offset: number) => void): Promise<number> {
  const length = Number(response.headers.get('Content-Length') ?? NaN);
  const reader = response.body!.getReader();
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return loaded;
    each(value, loaded);
    loaded += value.byteLength;
    onProgress(loaded, Number.isFinite(length) ? Math.max(length, loaded) : loaded);
  }
}
