import { onnxPath } from './model-files';
import type { Dtype } from './protocol';

/**
 * A graph's external-data files, read by the worker itself rather than by transformers.js.
 *
 * transformers.js reads a file into `new Uint8Array(size)`, and Chromium makes no ArrayBuffer over
 * 2 GiB ("Array buffer allocation failed"), so phi-2's 2.78 GB `.onnx_data` could never load on the
 * CPU. A WebAssembly.Memory's buffer can be up to 4 GiB; onnxruntime-web only reads the bytes it is
 * given (it copies each tensor into its own heap), so it takes one as well as any other.
 */

/** `onnx/<graph>.onnx_data`, then `…onnx_data_1`, `_2`… for a graph split into `chunks` files, as transformers.js names them. */
export function dataFileNames(file: string, dtype: Dtype, chunks: number): string[] {
  return Array.from({ length: chunks }, (_, i) => `${onnxPath(file, dtype)}_data${i === 0 ? '' : `_${i}`}`);
}

const WASM_PAGE = 65536;
/** The largest WebAssembly.Memory (wasm32): 65,536 pages of 64 KiB. */
export const MAX_BYTES = 65536 * WASM_PAGE;

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
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  let buffer = Number.isFinite(length) ? allocateBytes(length) : null;
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (buffer && loaded + value.byteLength > buffer.byteLength) {
      // The server sent more than it said: fall back to gathering.
      chunks.push(buffer.subarray(0, loaded));
      buffer = null;
    }
    if (buffer) buffer.set(value, loaded);
    else chunks.push(value);
    loaded += value.byteLength;
    onProgress(loaded, Number.isFinite(length) ? Math.max(length, loaded) : loaded);
  }
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
