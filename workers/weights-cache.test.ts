import 'fake-indexeddb/auto';
import { createStore, get, set, type UseStore } from 'idb-keyval';
import { beforeEach, describe, expect, it } from 'vitest';
import { isIntact, WeightsCache } from './weights-cache';
import { deleteCachedModel, groupByModel, listCachedModels, type StoredFile } from './weights-store';

const FOLDER = 'https://example.com/models/tiny/';
let store: UseStore;
let storeCount = 0;
beforeEach(() => {
  store = createStore(`weights-test-${storeCount++}`, 'files');
});

const bytes = (n: number) => new Uint8Array(n).map((_, i) => i % 251);
const cacheFor = (freeBytes = Infinity, folder = FOLDER, model = folder) =>
  new WeightsCache({ model, folder, store, freeBytes: async () => freeBytes });

describe('WeightsCache', () => {
  it('keeps a downloaded file and hands back the same bytes with their size', async () => {
    await cacheFor().put(`${FOLDER}onnx/model.onnx`, new Response(bytes(1000)));
    const hit = await cacheFor().match(`${FOLDER}onnx/model.onnx`);
    expect(hit?.headers.get('content-length')).toBe('1000');
    expect(new Uint8Array(await hit!.arrayBuffer())).toEqual(bytes(1000));
    const record = await get<StoredFile>(`${FOLDER}onnx/model.onnx`, store);
    expect(record).toMatchObject({ model: FOLDER, file: 'onnx/model.onnx', size: 1000 });
  });

  it('misses a file it never stored', async () => {
    expect(await cacheFor().match(`${FOLDER}config.json`)).toBeUndefined();
  });

  it("leaves other URLs alone, such as onnxruntime's WASM", async () => {
    const cache = cacheFor();
    await cache.put('https://example.com/assets/ort.wasm', new Response(bytes(10)));
    expect(await listCachedModels(store)).toEqual([]);
    expect(await cache.match('https://example.com/assets/ort.wasm')).toBeUndefined();
  });

  it('drops a truncated file on lookup, so that it is downloaded again', async () => {
    const url = `${FOLDER}onnx/model.onnx`;
    await set(url, { model: FOLDER, file: 'onnx/model.onnx', size: 1000, blob: new Blob([bytes(400)]) } satisfies StoredFile, store);
    expect(await cacheFor().match(url)).toBeUndefined();
    expect(await get(url, store)).toBeUndefined();
  });

  it('does not store a file that does not fit, and reports the whole model and the free space', async () => {
    const cache = cacheFor(5000);
    await cache.put(`${FOLDER}config.json`, new Response(bytes(700)));
    expect(cache.shortfall).toBeUndefined();
    await cache.put(`${FOLDER}onnx/model.onnx`, new Response(bytes(8000)));
    expect(await listCachedModels(store)).toEqual([{ model: FOLDER, files: 1, bytes: 700 }]);
    expect(cache.shortfall).toEqual({ modelBytes: 8700, freeBytes: 5000 });
  });

  it('treats a quota error from IndexedDB like a file that does not fit, without the wrong estimate', async () => {
    const full: UseStore = async () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    const cache = new WeightsCache({ model: FOLDER, folder: FOLDER, store: full, freeBytes: async () => 100 });
    await cache.put(`${FOLDER}config.json`, new Response(bytes(50)));
    expect(cache.shortfall).toEqual({ modelBytes: 50 });
  });

  it('counts each file once however often transformers.js looks it up', async () => {
    await cacheFor().put(`${FOLDER}config.json`, new Response(bytes(300)));
    const cache = cacheFor(0);
    await cache.match(`${FOLDER}config.json`);
    await cache.match(`${FOLDER}config.json`);
    await cache.put(`${FOLDER}onnx/model.onnx`, new Response(bytes(200)));
    expect(cache.shortfall).toEqual({ modelBytes: 500, freeBytes: 0 });
  });
});

describe('isIntact', () => {
  const record = (blob: Blob, size = blob.size): StoredFile => ({ model: 'm', file: 'f', size, blob });

  it('accepts a blob of the recorded size, including an empty file', async () => {
    expect(await isIntact(record(new Blob([bytes(10)])))).toBe(true);
    expect(await isIntact(record(new Blob([])))).toBe(true);
  });

  it('rejects a blob of another size, or no blob at all', async () => {
    expect(await isIntact(record(new Blob([bytes(10)]), 11))).toBe(false);
    expect(await isIntact({ model: 'm', file: 'f', size: 10 } as StoredFile)).toBe(false);
  });

  it('rejects a blob whose data can no longer be read', async () => {
    const lost = new Blob([bytes(10)]);
    lost.slice = () => ({ arrayBuffer: () => Promise.reject(new DOMException('gone', 'NotReadableError')) }) as unknown as Blob;
    expect(await isIntact(record(lost))).toBe(false);
  });
});

describe('cached models', () => {
  const file = (model: string, name: string, size: number): StoredFile => ({ model, file: name, size, blob: new Blob([bytes(size)]) });

  it('groups files by model, largest model first', () => {
    expect(groupByModel([file('a', 'config.json', 10), file('b', 'onnx/model.onnx', 500), file('a', 'onnx/model.onnx', 90)])).toEqual([
      { model: 'b', files: 1, bytes: 500 },
      { model: 'a', files: 2, bytes: 100 },
    ]);
  });

  it('deletes every file of one model and nothing else', async () => {
    await set('https://a/config.json', file('a', 'config.json', 10), store);
    await set('https://a/onnx/model.onnx', file('a', 'onnx/model.onnx', 90), store);
    await set('https://b/config.json', file('b', 'config.json', 20), store);
    await deleteCachedModel('a', store);
    expect(await listCachedModels(store)).toEqual([{ model: 'b', files: 1, bytes: 20 }]);
  });
});

describe('WeightsCache after a failed load', () => {
  it('forgets the files that load wrote, and only those', async () => {
    const earlier = `${FOLDER}tokenizer.json`;
    await cacheFor().put(earlier, new Response(bytes(10)));
    const cache = cacheFor();
    // What a static host answers for a file it does not have.
    await cache.put(`${FOLDER}onnx/model_q4.onnx`, new Response('<!doctype html><title>Not here</title>'));
    await cache.put(`${FOLDER}config.json`, new Response('{}'));
    await cache.discardWritten();
    expect(await cacheFor().match(`${FOLDER}onnx/model_q4.onnx`)).toBeUndefined();
    expect(await cacheFor().match(`${FOLDER}config.json`)).toBeUndefined();
    expect(await cacheFor().match(earlier)).toBeDefined();
  });
});
