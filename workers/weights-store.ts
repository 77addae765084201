import { createStore, delMany, entries, keys, type UseStore } from 'idb-keyval';

/**
 * Model files kept on the device, one IndexedDB record per file, keyed by the URL it was
 * downloaded from. Shared by the worker (which fills it while loading) and the storage panel
 * (which lists and deletes).
 */
export interface StoredFile {
  /** The model's source id (hub repo or folder URL): what the files are grouped and deleted by. */
  model: string;
  /** Path inside the model folder, e.g. `onnx/model.onnx`. */
  file: string;
  /** Bytes the download had; a blob of any other size is damaged. */
  size: number;
  blob: Blob;
}

export interface CachedModel {
  model: string;
  files: number;
  bytes: number;
}

/** A database of its own: idb-keyval's `createStore` can only make one object store per database. */
export const weightsStore: UseStore = createStore('phi-chat-weights', 'files');

/** One line per model, its files' sizes added up, largest first. */
export function groupByModel(records: readonly StoredFile[]): CachedModel[] {
  const models = new Map<string, CachedModel>();
  for (const { model, size } of records) {
    const entry = models.get(model) ?? { model, files: 0, bytes: 0 };
    entry.files++;
    entry.bytes += size;
    models.set(model, entry);
  }
  return [...models.values()].sort((a, b) => b.bytes - a.bytes || a.model.localeCompare(b.model));
}

export async function listCachedModels(store = weightsStore): Promise<CachedModel[]> {
  return groupByModel((await entries<string, StoredFile>(store)).map(([, record]) => record));
}

export async function deleteCachedModel(model: string, store = weightsStore): Promise<void> {
  const keys = (await entries<string, StoredFile>(store)).filter(([, record]) => record.model === model).map(([key]) => key);
  await delMany(keys, store);
}

/**
 * The URLs of the stored files, without reading a record: a page that holds a stored Blob, even
 * one waiting for garbage collection, keeps its bytes on disk after the record is deleted.
 */
export async function storedFileUrls(store = weightsStore): Promise<string[]> {
  return (await keys(store)).map(String);
}
