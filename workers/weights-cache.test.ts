import 'fake-indexeddb/auto';
import { createStore, get, keys, set, type UseStore } from 'idb-keyval';
import { beforeEach, describe, expect, it } from 'vitest';
import { isIntact, WeightsCache } from './weights-cache';
import { deleteCachedModel, groupByModel, listCachedModels, markLoading, storeLocalFolder, type StoredFile } from './weights-store';

const FOLDER = 'https://example.com/models/tiny/';
let store: UseStore;
let storeCount = 0;
beforeEach(() => {
  store = createStore(`weights-test-${storeCount++}`, 'files');
});

const bytes = (n: number) => new Uint8Array(n).map((_, i) => i % 251);

/** A server that has `files` (path under FOLDER -> bytes), counting the requests it gets. */
function server(files: Record<string, Uint8Array | string>) {
  const requests: string[] = [];
  const network = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    requests.push(`${init?.method ?? 'GET'} ${url.slice(FOLDER.length)}`);
    const body = files[url.slice(FOLDER.length)];
    if (body === undefined) return new Response('Not found', { status: 404 });
    const length = typeof body === 'string' ? new TextEncoder().encode(body).length : body.length;
    // Streamed in small chunks, as a download arrives.
    const data = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < data.length; i += 100) controller.enqueue(data.slice(i, i + 100));
        controller.close();
      },
    });
    return new Response(init?.method === 'HEAD' ? null : stream, { headers: { 'Content-Length': String(length) } });
  }) as typeof fetch;
  return { network, requests };
}

const cacheFor = (network: typeof fetch, { freeBytes = Infinity, partBytes = 1 << 20, local = false } = {}) =>
  new WeightsCache({ model: FOLDER, folder: FOLDER, store, freeBytes: async () => freeBytes, network, partBytes, local });

const read = async (response: Response) => new Uint8Array(await response.arrayBuffer());

describe('WeightsCache', () => {
  it('stores a file while it downloads, and serves the same bytes from the store the next time', async () => {
    const first = server({ 'onnx/model.onnx': bytes(1000) });
    expect(await read(await cacheFor(first.network).fetch(`${FOLDER}onnx/model.onnx`))).toEqual(bytes(1000));
    expect(await get<StoredFile>(`${FOLDER}onnx/model.onnx`, store)).toMatchObject({ model: FOLDER, file: 'onnx/model.onnx', size: 1000 });

    const second = server({});
    const hit = await cacheFor(second.network).fetch(`${FOLDER}onnx/model.onnx`);
    expect(hit.headers.get('content-length')).toBe('1000');
    expect(await read(hit)).toEqual(bytes(1000));
    expect(second.requests).toEqual([]);
  });

  it('stores a large file in parts as it streams, and serves it joined', async () => {
    const { network } = server({ 'onnx/model.onnx_data': bytes(2500) });
    const cache = cacheFor(network, { partBytes: 1000 });
    await read(await cache.fetch(`${FOLDER}onnx/model.onnx_data`));
    await cache.commit();
    expect((await keys(store)).length).toBe(4);
    expect(await get<StoredFile>(`${FOLDER}onnx/model.onnx_data`, store)).toMatchObject({ size: 2500, parts: 3 });
    expect(await listCachedModels(store)).toEqual([{ model: FOLDER, files: 1, bytes: 2500 }]);
    const offline = server({});
    expect(await read(await cacheFor(offline.network).fetch(`${FOLDER}onnx/model.onnx_data`))).toEqual(bytes(2500));
    expect(offline.requests).toEqual([]);
  });

  it('answers probes for a stored file from the store: HEAD, and the first byte of a range', async () => {
    const { network } = server({ 'onnx/model.onnx_data': bytes(50) });
    await read(await cacheFor(network).fetch(`${FOLDER}onnx/model.onnx_data`));
    const offline = server({});
    const cache = cacheFor(offline.network);
    const head = await cache.fetch(`${FOLDER}onnx/model.onnx_data`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length')]).toEqual([200, '50']);
    const range = await cache.fetch(`${FOLDER}onnx/model.onnx_data`, { headers: { Range: 'bytes=0-0' } });
    expect([range.status, range.headers.get('content-range'), (await read(range)).length]).toEqual([206, 'bytes 0-0/50', 1]);
    expect(offline.requests).toEqual([]);
  });

  it('remembers a file a probe found missing, so a load from the store asks the network nothing', async () => {
    const first = server({});
    expect((await cacheFor(first.network).fetch(`${FOLDER}onnx/model.onnx_data`, { method: 'HEAD' })).status).toBe(404);
    const second = server({ 'onnx/model.onnx_data': bytes(5) });
    const cache = cacheFor(second.network);
    expect((await cache.fetch(`${FOLDER}onnx/model.onnx_data`, { method: 'HEAD' })).status).toBe(404);
    expect(second.requests).toEqual([]);
    // A download still asks, in case the file is there now.
    expect(await read(await cache.fetch(`${FOLDER}onnx/model.onnx_data`))).toEqual(bytes(5));
  });

  it('stores neither a probe nor an error page', async () => {
    const { network } = server({ 'config.json': '{}' });
    const cache = cacheFor(network);
    await cache.fetch(`${FOLDER}config.json`, { method: 'HEAD' });
    await cache.fetch(`${FOLDER}tokenizer.json`);
    expect(await keys(store)).toEqual([]);
  });

  it("leaves other URLs alone, such as onnxruntime's WASM", async () => {
    const requests: string[] = [];
    const network = (async (input: RequestInfo | URL) => {
      requests.push(String(input));
      return new Response(bytes(10));
    }) as typeof fetch;
    await read(await cacheFor(network).fetch('https://example.com/assets/ort.wasm'));
    await read(await cacheFor(network).fetch('https://example.com/assets/ort.wasm'));
    expect(requests.length).toBe(2);
    expect(await keys(store)).toEqual([]);
  });

  it('drops a truncated file or one with a lost part on lookup, so that it is downloaded again', async () => {
    const url = `${FOLDER}onnx/model.onnx`;
    await set(url, { model: FOLDER, file: 'onnx/model.onnx', size: 1000, blob: new Blob([bytes(400)]) } satisfies StoredFile, store);
    const { network, requests } = server({ 'onnx/model.onnx': bytes(1000), 'onnx/model.onnx_data': bytes(3000) });
    expect(await read(await cacheFor(network).fetch(url))).toEqual(bytes(1000));
    expect(requests).toEqual(['GET onnx/model.onnx']);
    expect((await get<StoredFile>(url, store))?.size).toBe(1000);

    const data = `${FOLDER}onnx/model.onnx_data`;
    await read(await cacheFor(network, { partBytes: 1000 }).fetch(data));
    await set(`${data}#part-1`, undefined, store);
    expect(await read(await cacheFor(network).fetch(data))).toEqual(bytes(3000));
    expect(requests.filter((r) => r === 'GET onnx/model.onnx_data').length).toBe(2);
  });

  it('does not store a file that does not fit, and reports the whole model and the free space', async () => {
    const { network } = server({ 'config.json': bytes(700), 'onnx/model.onnx': bytes(8000) });
    const cache = cacheFor(network, { freeBytes: 5000 });
    await read(await cache.fetch(`${FOLDER}config.json`));
    expect(cache.shortfall).toBeUndefined();
    expect(await read(await cache.fetch(`${FOLDER}onnx/model.onnx`))).toEqual(bytes(8000));
    expect(await listCachedModels(store)).toEqual([{ model: FOLDER, files: 1, bytes: 700, incomplete: true }]);
    expect(cache.shortfall).toEqual({ modelBytes: 8700, freeBytes: 5000 });
  });

  it('treats a quota error from IndexedDB like a file that does not fit, and still hands over the whole download', async () => {
    const full: UseStore = (mode, callback) =>
      mode === 'readwrite' ? Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError')) : store(mode, callback);
    const { network } = server({ 'config.json': bytes(50) });
    const cache = new WeightsCache({ model: FOLDER, folder: FOLDER, store: full, freeBytes: async () => 100, network });
    expect(await read(await cache.fetch(`${FOLDER}config.json`))).toEqual(bytes(50));
    expect(cache.shortfall).toEqual({ modelBytes: 50 });
  });

  it('serves a folder from disk only from the store: a file it lacks is a 404, never a download', async () => {
    const { network, requests } = server({ 'tokenizer.json': '{}' });
    const origin = 'https://app.example';
    const model = await storeLocalFolder('tiny', origin, [{ path: 'config.json', file: new Blob(['{"a":1}']) }], store);
    const folder = `${origin}/local-models/tiny/`;
    const cache = new WeightsCache({ model, folder, local: true, store, network });
    expect(await (await cache.fetch(`${folder}config.json`)).text()).toBe('{"a":1}');
    expect((await cache.fetch(`${folder}tokenizer.json`)).status).toBe(404);
    expect(requests).toEqual([]);
    expect(await listCachedModels(store)).toEqual([{ model: 'local:tiny', files: 1, bytes: 7, incomplete: true }]);
    await cache.commit();
    expect(await listCachedModels(store)).toEqual([{ model: 'local:tiny', files: 1, bytes: 7 }]);
  });
});

describe('WeightsCache around a load', () => {
  const files = { 'config.json': '{}', 'tokenizer.json': '{}', 'onnx/model_q4.onnx': '<!doctype html><title>Not here</title>' };

  it('after a failed load, leaves nothing of the model: what it downloaded and what an earlier load stored', async () => {
    const { network } = server(files);
    const earlier = cacheFor(network);
    await read(await earlier.fetch(`${FOLDER}tokenizer.json`));
    await earlier.commit();
    const cache = cacheFor(network);
    await cache.begin();
    await read(await cache.fetch(`${FOLDER}tokenizer.json`));
    await read(await cache.fetch(`${FOLDER}config.json`));
    await read(await cache.fetch(`${FOLDER}onnx/model_q4.onnx`));
    await cache.discard();
    expect(await keys(store)).toEqual([]);
  });

  it('stores nothing of a download that finishes after the load failed', async () => {
    const { network } = server({ 'onnx/model.onnx': bytes(500) });
    const cache = cacheFor(network);
    const response = await cache.fetch(`${FOLDER}onnx/model.onnx`);
    await cache.discard();
    expect(await read(response)).toEqual(bytes(500));
    expect(await keys(store)).toEqual([]);
  });

  it('after a load that worked, keeps its files, marked complete', async () => {
    const { network } = server(files);
    const cache = cacheFor(network);
    await cache.begin();
    await read(await cache.fetch(`${FOLDER}config.json`));
    expect(await listCachedModels(store)).toEqual([{ model: FOLDER, files: 1, bytes: 2, incomplete: true }]);
    await cache.commit();
    expect(await listCachedModels(store)).toEqual([{ model: FOLDER, files: 1, bytes: 2 }]);
  });

  it('drops, before a load, the files of one that never finished (a closed tab, a crash)', async () => {
    const { network, requests } = server(files);
    await read(await cacheFor(network).fetch(`${FOLDER}config.json`));
    await markLoading(FOLDER, store);
    const cache = cacheFor(network);
    await cache.begin();
    expect(await keys(store)).toEqual([]);
    await read(await cache.fetch(`${FOLDER}config.json`));
    expect(requests).toEqual(['GET config.json', 'GET config.json']);
  });

  it('marks nothing when every file came from the store, so an interrupted reload costs no download', async () => {
    const { network } = server(files);
    const first = cacheFor(network);
    await read(await first.fetch(`${FOLDER}config.json`));
    await first.commit();
    const reload = cacheFor(network);
    await reload.begin();
    await read(await reload.fetch(`${FOLDER}config.json`));
    expect(await listCachedModels(store)).toEqual([{ model: FOLDER, files: 1, bytes: 2 }]);
  });
});

describe('isIntact', () => {
  it('accepts a blob of the recorded size, including an empty file', async () => {
    expect(await isIntact(new Blob([bytes(10)]), 10)).toBe(true);
    expect(await isIntact(new Blob([]), 0)).toBe(true);
  });

  it('rejects a blob of another size, or no blob at all', async () => {
    expect(await isIntact(new Blob([bytes(10)]), 11)).toBe(false);
    expect(await isIntact(undefined, 10)).toBe(false);
  });

  it('rejects a blob whose data can no longer be read', async () => {
    const lost = new Blob([bytes(10)]);
    lost.slice = () => ({ arrayBuffer: () => Promise.reject(new DOMException('gone', 'NotReadableError')) }) as unknown as Blob;
    expect(await isIntact(lost, 10)).toBe(false);
  });
});

describe('cached models', () => {
  const file = (model: string, name: string, size: number): StoredFile => ({ model, file: name, size, blob: new Blob([bytes(size)]) });

  it('groups files by model, largest model first, and flags one whose load did not finish', () => {
    expect(
      groupByModel([
        file('a', 'config.json', 10),
        file('b', 'onnx/model.onnx', 500),
        file('a', 'onnx/model.onnx', 90),
        { model: 'a', loading: true },
        { model: 'b', partOf: 'https://b/onnx/model.onnx', blob: new Blob([bytes(5)]) },
      ]),
    ).toEqual([
      { model: 'b', files: 1, bytes: 500 },
      { model: 'a', files: 2, bytes: 100, incomplete: true },
    ]);
  });

  it('deletes every record of one model and nothing else', async () => {
    await set('https://a/config.json', file('a', 'config.json', 10), store);
    await set('https://a/onnx/model.onnx', file('a', 'onnx/model.onnx', 90), store);
    await set('https://b/config.json', file('b', 'config.json', 20), store);
    await markLoading('a', store);
    await deleteCachedModel('a', store);
    expect(await listCachedModels(store)).toEqual([{ model: 'b', files: 1, bytes: 20 }]);
  });
});
