import { del, delMany, get, set, type UseStore } from 'idb-keyval';
import type { StorageShortfall } from './protocol';
import { weightsStore, type StoredFile } from './weights-store';

/** Bytes this origin may still store, as far as the browser will say. */
export async function browserFreeBytes(): Promise<number> {
  if (!navigator.storage?.estimate) return Infinity;
  const { quota, usage = 0 } = await navigator.storage.estimate();
  return quota === undefined ? Infinity : quota - usage;
}

/** Whether a stored record still holds the whole file it was saved with. */
export async function isIntact(record: StoredFile): Promise<boolean> {
  if (!(record.blob instanceof Blob) || record.blob.size !== record.size) return false;
  if (record.size === 0) return true;
  // A blob whose data on disk was lost keeps its size but cannot be read; one byte tells.
  try {
    await record.blob.slice(record.size - 1).arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

const isQuotaError = (error: unknown) => error instanceof DOMException && error.name === 'QuotaExceededError';

export interface WeightsCacheOptions {
  /** The model's source id, recorded with each file. */
  model: string;
  /** URL of the model's folder: only files under it are kept (not, say, onnxruntime's own WASM). */
  folder: string;
  store?: UseStore;
  freeBytes?: () => Promise<number>;
}

/**
 * transformers.js's custom cache (`env.customCache`): model files as Blobs in IndexedDB, where
 * they survive the HTTP cache's evictions and can be listed and deleted per model.
 */
export class WeightsCache {
  private readonly model: string;
  private readonly folder: string;
  private readonly store: UseStore;
  private readonly freeBytes: () => Promise<number>;
  /** Size of every file of the model seen in this load, cached or downloaded. */
  private readonly sizes = new Map<string, number>();
  /** Set once a file did not fit; the free space is left out when the estimate said it would. */
  private noRoom: { freeBytes?: number } | null = null;
  /** URLs written in this load, not yet proven by a load that worked. */
  private readonly written: string[] = [];

  constructor({ model, folder, store = weightsStore, freeBytes = browserFreeBytes }: WeightsCacheOptions) {
    this.model = model;
    this.folder = folder;
    this.store = store;
    this.freeBytes = freeBytes;
  }

  /** Set when a file did not fit: the model will be downloaded again next time. */
  get shortfall(): StorageShortfall | undefined {
    if (!this.noRoom) return undefined;
    let modelBytes = 0;
    for (const size of this.sizes.values()) modelBytes += size;
    return { modelBytes, ...this.noRoom };
  }

  async match(url: string): Promise<Response | undefined> {
    if (!url.startsWith(this.folder)) return undefined;
    const record = await get<StoredFile>(url, this.store);
    if (!record) return undefined;
    // A damaged file is dropped and downloaded again rather than handed to the model loader.
    if (!(await isIntact(record))) {
      await del(url, this.store);
      return undefined;
    }
    this.sizes.set(url, record.size);
    return new Response(record.blob, { headers: { 'Content-Length': String(record.size) } });
  }

  async put(url: string, response: Response): Promise<void> {
    if (!url.startsWith(this.folder)) return;
    const blob = await response.blob();
    this.sizes.set(url, blob.size);
    const free = await this.freeBytes();
    if (blob.size > free) {
      this.noRoom = { freeBytes: Math.max(0, free) };
      return;
    }
    const record: StoredFile = { model: this.model, file: url.slice(this.folder.length), size: blob.size, blob };
    try {
      await set(url, record, this.store);
      this.written.push(url);
    } catch (error) {
      // The estimate is only an estimate: a write can still hit the quota, and then its figure is wrong.
      if (!isQuotaError(error)) throw error;
      this.noRoom = {};
    }
  }

  /**
   * Forgets what this load wrote: a file that downloaded whole can still be the wrong one (an HTML
   * page where a model file should be, a graph cut short at the server), and a load that failed
   * has not shown which. Kept, it would fail every later load from the cache.
   */
  async discardWritten(): Promise<void> {
    await delMany(this.written.splice(0), this.store);
  }
}
