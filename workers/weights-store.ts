import { createStore, del, delMany, entries, get, getMany, keys, set, type UseStore } from 'idb-keyval';

/**
 * Model files kept on the device, one IndexedDB record per file, keyed by the URL it was
 * downloaded from (for a folder from the user's disk, by a URL under the app's own origin that
 * only this store answers). Shared by the worker (which fills it while loading), the folder
 * picker (which stores a folder from disk) and the storage panel (which lists and deletes).
 */
export interface StoredFile {
  /** The model's source id (hub repo, folder URL or `local:<name>`): what files are grouped and deleted by. */
  model: string;
  /** Path inside the model folder, e.g. `onnx/model.onnx`. */
  file: string;
  /** Bytes the download had; a blob of any other size is damaged. */
  size: number;
  /** The whole file, for files stored in one piece. */
  blob?: Blob;
  /**
   * How many parts a large download was stored in, as it streamed in (records `partKey(url, i)`):
   * one Blob of several GB would be held in memory whole before IndexedDB got it.
   */
  parts?: number;
}

/** A piece of a large file, in the order `partKey` numbers them. */
export interface StoredPart {
  model: string;
  partOf: string;
  blob: Blob;
}

/**
 * Present while a model's files are being stored: a load or a folder import that did not finish
 * (a failure, a closed tab, a crash) leaves it behind, and its files are not trusted.
 */
export interface LoadMarker {
  model: string;
  loading: true;
}

/**
 * A file the model's server said it does not have when asked by a probe (HEAD), such as a graph's
 * `.onnx_data` where the weights are inside the graph: so a load from the store asks the network nothing.
 */
export interface KnownAbsent {
  model: string;
  absent: true;
}

type WeightsRecord = StoredFile | StoredPart | LoadMarker | KnownAbsent;

export interface CachedModel {
  model: string;
  files: number;
  bytes: number;
  /** Its load or import has not finished (or never will): the files may not be all there. */
  incomplete?: boolean;
}

/** A database of its own: idb-keyval's `createStore` can only make one object store per database. */
export const weightsStore: UseStore = createStore('phi-chat-weights', 'files');

export const partKey = (url: string, index: number) => `${url}#part-${index}`;
const markerKey = (model: string) => `loading:${model}`;

const isFile = (record: WeightsRecord): record is StoredFile => 'file' in record;

/** One line per model, its files' sizes added up, largest first. */
export function groupByModel(records: readonly WeightsRecord[]): CachedModel[] {
  const models = new Map<string, CachedModel>();
  const entry = (model: string) => models.get(model) ?? models.set(model, { model, files: 0, bytes: 0 }).get(model)!;
  for (const record of records) {
    if (isFile(record)) {
      const line = entry(record.model);
      line.files++;
      line.bytes += record.size;
    } else if ('loading' in record) {
      entry(record.model).incomplete = true;
    }
  }
  return [...models.values()].sort((a, b) => b.bytes - a.bytes || a.model.localeCompare(b.model));
}

export async function listCachedModels(store = weightsStore): Promise<CachedModel[]> {
  return groupByModel((await entries<string, WeightsRecord>(store)).map(([, record]) => record));
}

/** Deletes every record of the model: its files, their parts and its loading marker. */
export async function deleteCachedModel(model: string, store = weightsStore): Promise<void> {
  const keys = (await entries<string, WeightsRecord>(store)).filter(([, record]) => record.model === model).map(([key]) => key);
  await delMany(keys, store);
}

/**
 * The URLs of the stored files (not their parts or loading markers), without reading a record: a
 * page that holds a stored Blob, even one waiting for garbage collection, keeps its bytes on disk
 * after the record is deleted.
 */
export async function storedFileUrls(store = weightsStore): Promise<string[]> {
  return (await keys(store)).map(String).filter((key) => !key.startsWith('loading:') && !/#part-\d+$/.test(key));
}

export async function markLoading(model: string, store = weightsStore): Promise<void> {
  await set(markerKey(model), { model, loading: true } satisfies LoadMarker, store);
}

export async function markComplete(model: string, store = weightsStore): Promise<void> {
  await del(markerKey(model), store);
}

export async function isMarkedLoading(model: string, store = weightsStore): Promise<boolean> {
  return (await get(markerKey(model), store)) !== undefined;
}

/** The stored file's bytes as one Blob (its parts joined, which copies nothing), or undefined if a part is gone. */
export async function storedBlob(url: string, record: StoredFile, store = weightsStore): Promise<Blob | undefined> {
  if (record.parts === undefined) return record.blob;
  const keys = Array.from({ length: record.parts }, (_, i) => partKey(url, i));
  const parts = await getMany<StoredPart | undefined>(keys, store);
  if (parts.some((part) => !(part?.blob instanceof Blob))) return undefined;
  return new Blob(parts.map((part) => part!.blob));
}

/** Deletes one stored file with its parts. */
export async function deleteStoredFile(url: string, record: StoredFile | undefined, store = weightsStore): Promise<void> {
  const parts = Array.from({ length: record?.parts ?? 0 }, (_, i) => partKey(url, i));
  await delMany([url, ...parts], store);
}

/**
 * Where a folder from the user's disk is stored: a URL under the app's own origin that no server
 * answers, since the worker serves every file under it from this store and never from the network.
 */
export function localFolderUrl(name: string, origin: string): string {
  return `${origin}/local-models/${encodeURIComponent(name)}/`;
}

export const LOCAL_PREFIX = 'local:';
export const isLocalModel = (id: string) => id.startsWith(LOCAL_PREFIX);
export const localModelName = (id: string) => id.slice(LOCAL_PREFIX.length);

/**
 * Stores a folder from the user's disk as the model `local:<name>`, replacing what it had. The
 * loading marker stays until the worker has loaded it: a folder that fails to load is removed whole.
 */
export async function storeLocalFolder(name: string, origin: string, files: readonly { path: string; file: Blob }[], store = weightsStore): Promise<string> {
  const model = `${LOCAL_PREFIX}${name}`;
  await deleteCachedModel(model, store);
  await markLoading(model, store);
  const folder = localFolderUrl(name, origin);
  for (const { path, file } of files) {
    await set(`${folder}${path}`, { model, file: path, size: file.size, blob: file } satisfies StoredFile, store);
  }
  return model;
}
