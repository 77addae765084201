import { get, set, type UseStore } from 'idb-keyval';
import type { StorageShortfall } from './protocol';
import {
  deleteCachedModel,
  deleteStoredFile,
  isMarkedLoading,
  markComplete,
  markLoading,
  partKey,
  storedBlob,
  weightsStore,
  type KnownAbsent,
  type StoredFile,
  type StoredPart,
} from './weights-store';

/** Bytes this origin may still store, as far as the browser will say. */
export async function browserFreeBytes(): Promise<number> {
  if (!navigator.storage?.estimate) return Infinity;
  const { quota, usage = 0 } = await navigator.storage.estimate();
  return quota === undefined ? Infinity : quota - usage;
}

/** Whether a stored file's bytes are all there: the recorded size, and its last byte readable. */
export async function isIntact(blob: Blob | undefined, size: number): Promise<boolean> {
  if (!(blob instanceof Blob) || blob.size !== size) return false;
  if (size === 0) return true;
  // A blob whose data on disk was lost keeps its size but cannot be read; one byte tells.
  try {
    await blob.slice(size - 1).arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

const isQuotaError = (error: unknown) => error instanceof DOMException && error.name === 'QuotaExceededError';

/** Large downloads are stored in parts of this size as they stream in, so no more than one part waits in memory. */
export const PART_BYTES = 64 * 1024 * 1024;

export interface WeightsCacheOptions {
  /** The model's source id, recorded with each file. */
  model: string;
  /** URL of the model's folder: only files under it are kept (not, say, onnxruntime's own WASM). */
  folder: string;
  /** A folder from the user's disk: every file comes from the store, and a missing one is a 404, never a download. */
  local?: boolean;
  store?: UseStore;
  freeBytes?: () => Promise<number>;
  network?: typeof fetch;
  partBytes?: number;
}

const requestUrl = (input: RequestInfo | URL) => (input instanceof Request ? input.url : String(input));

/**
 * transformers.js's `env.fetch` for one model: files under the model's folder come from IndexedDB
 * when stored there whole, and are stored while they download otherwise. Sitting in front of the
 * fetch (rather than being transformers.js's custom cache, which gets every file as one buffer and
 * wraps it in a new Response, which Chromium refuses past 2 GiB) keeps the bytes out of memory
 * twice, however large the file.
 */
export class WeightsCache {
  private readonly model: string;
  private readonly folder: string;
  private readonly local: boolean;
  private readonly store: UseStore;
  private readonly freeBytes: () => Promise<number>;
  private readonly network: typeof fetch;
  private readonly partBytes: number;
  /** Size of every file of the model seen in this load, cached or downloaded. */
  private readonly sizes = new Map<string, number>();
  /** Set once a file did not fit; the free space is left out when the estimate said it would. */
  private noRoom: { freeBytes?: number } | null = null;
  /** Whether this load has begun writing, and so marked the model as loading. */
  private marked: Promise<void> | null = null;
  /** The responses `fetch` gave out that are being stored as they stream. */
  private readonly storing = new WeakSet<Response>();
  /** Set by `discard`: downloads still streaming after a failed load (transformers.js does not stop them) store nothing. */
  private discarded = false;

  constructor({ model, folder, local = false, store = weightsStore, freeBytes = browserFreeBytes, network = (input, init) => fetch(input, init), partBytes = PART_BYTES }: WeightsCacheOptions) {
    this.model = model;
    this.folder = folder;
    this.local = local;
    this.store = store;
    this.freeBytes = freeBytes;
    this.network = network;
    this.partBytes = partBytes;
  }

  /** Set when a file did not fit: the model will be downloaded again next time. */
  get shortfall(): StorageShortfall | undefined {
    if (!this.noRoom) return undefined;
    let modelBytes = 0;
    for (const size of this.sizes.values()) modelBytes += size;
    return { modelBytes, ...this.noRoom };
  }

  /** Before a load: files left by a load that never finished are not trusted, and go. */
  async begin(): Promise<void> {
    // A folder from disk is marked by its import, which the load finishes.
    if (this.local) return;
    if (await isMarkedLoading(this.model, this.store)) await deleteCachedModel(this.model, this.store);
  }

  /** The load worked: what it stored is the model. */
  async commit(): Promise<void> {
    await this.marked;
    if (this.marked || this.local) await markComplete(this.model, this.store);
  }

  /**
   * The load failed: nothing of the model stays. A file that downloaded whole can still be the
   * wrong one (an HTML page where a model file should be, a graph cut short at the server), and a
   * load that failed has not shown which; kept, it would fail every later load from the store.
   */
  async discard(): Promise<void> {
    this.discarded = true;
    await this.marked?.catch(() => undefined);
    await deleteCachedModel(this.model, this.store);
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = requestUrl(input);
    if (!url.startsWith(this.folder)) return this.network(input, init);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const range = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).get('Range');
    const probe = method === 'HEAD';
    const stored = await this.lookup(url, probe);
    if (stored === 'absent' || (!stored && this.local)) return new Response(null, { status: 404, statusText: 'Not Found' });
    if (stored) return answerFromStore(stored, method, range);
    const response = await this.network(input, init);
    if (probe && response.status === 404) await this.remember(url, { model: this.model, absent: true });
    // Only a whole file is stored: not a probe (HEAD, a range), not an error page.
    if (method !== 'GET' || range || response.status !== 200 || !response.body) return response;
    return this.storeWhileStreaming(url, response);
  };

  /** Whether `response` (from this cache's `fetch`) is being stored as it streams. */
  isStoring(response: Response): boolean {
    return this.storing.has(response);
  }

  /** The file as stored whole and intact, if it is. */
  async storedFile(url: string): Promise<Blob | undefined> {
    const stored = await this.lookup(url, false);
    return stored instanceof Blob ? stored : undefined;
  }

  /**
   * The stored file, 'absent' for a probe of a file the server said it lacks, or undefined; a
   * damaged file is dropped, so that it is downloaded again.
   */
  private async lookup(url: string, probe: boolean): Promise<Blob | 'absent' | undefined> {
    const record = await get<StoredFile | KnownAbsent>(url, this.store);
    if (!record) return undefined;
    // Only a probe takes the earlier answer: a download still asks, in case the file is there now.
    if ('absent' in record) return probe ? 'absent' : undefined;
    const blob = await storedBlob(url, record, this.store);
    if (!(await isIntact(blob, record.size))) {
      await deleteStoredFile(url, record, this.store);
      return undefined;
    }
    this.sizes.set(url, record.size);
    return blob;
  }

  private async storeWhileStreaming(url: string, response: Response): Promise<Response> {
    const length = Number(response.headers.get('Content-Length') ?? NaN);
    if (Number.isFinite(length)) {
      this.sizes.set(url, length);
      const free = await this.freeBytes();
      if (length > free) {
        this.noRoom = { freeBytes: Math.max(0, free) };
        return response;
      }
    }
    const writer = new FileWriter(url, this.model, this.folder, this.store, this.partBytes, () => this.markWriting(), () => this.discarded);
    const body = response.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: async (chunk, controller) => {
          controller.enqueue(chunk);
          await writer.add(chunk);
        },
        flush: async () => {
          const size = await writer.finish();
          this.sizes.set(url, size ?? writer.bytes);
          if (size === undefined && writer.quotaExceeded) this.noRoom ??= {};
        },
      }),
    );
    const storing = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    this.storing.add(storing);
    return storing;
  }

  private async remember(url: string, record: KnownAbsent) {
    if (this.discarded) return;
    try {
      await this.markWriting();
      await set(url, record, this.store);
    } catch {
      // Only saves a request next time.
    }
  }

  private markWriting(): Promise<void> {
    this.marked ??= markLoading(this.model, this.store);
    return this.marked;
  }
}

/** A stored file as the network would have answered: whole, its first byte for a range probe, or headers only. */
function answerFromStore(blob: Blob, method: string, range: string | null): Response {
  const headers = { 'Content-Type': blob.type || 'application/octet-stream' };
  if (method === 'HEAD') return new Response(null, { status: 200, headers: { ...headers, 'Content-Length': String(blob.size) } });
  const first = range && /^bytes=0-0$/.exec(range.trim());
  if (first && blob.size > 0) {
    return new Response(blob.slice(0, 1), { status: 206, headers: { ...headers, 'Content-Length': '1', 'Content-Range': `bytes 0-0/${blob.size}` } });
  }
  return new Response(blob, { status: 200, headers: { ...headers, 'Content-Length': String(blob.size) } });
}

/**
 * Writes one download to the store as it streams: small files as one record, large ones in parts
 * of `partBytes`, the file's own record last, so that a download cut short is never taken for a file.
 */
class FileWriter {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private parts = 0;
  bytes = 0;
  quotaExceeded = false;
  private failed = false;

  constructor(
    private readonly url: string,
    private readonly model: string,
    private readonly folder: string,
    private readonly store: UseStore,
    private readonly partBytes: number,
    private readonly beforeWrite: () => Promise<void>,
    private readonly discarded: () => boolean,
  ) {}

  async add(chunk: Uint8Array) {
    this.bytes += chunk.byteLength;
    if (this.failed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    if (this.buffered >= this.partBytes) await this.writePart();
  }

  /** Writes what is left and the file's record; returns its size, or undefined if it could not be stored. */
  async finish(): Promise<number | undefined> {
    if (this.failed) return undefined;
    const record: StoredFile = { model: this.model, file: this.url.slice(this.folder.length), size: this.bytes };
    if (this.parts === 0) {
      record.blob = this.takeBlob();
    } else {
      if (this.buffered > 0) await this.writePart();
      if (this.failed) return undefined;
      record.parts = this.parts;
    }
    if (!(await this.write(this.url, record))) return undefined;
    return this.bytes;
  }

  /** The buffered chunks as one Blob of one piece (not one Blob item per network chunk). */
  private takeBlob(): Blob {
    const bytes = new Uint8Array(this.buffered);
    let offset = 0;
    for (const chunk of this.chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.chunks = [];
    this.buffered = 0;
    return new Blob([bytes]);
  }

  private async writePart() {
    const part: StoredPart = { model: this.model, partOf: this.url, blob: this.takeBlob() };
    if (await this.write(partKey(this.url, this.parts), part)) this.parts++;
  }

  private async write(key: string, value: StoredFile | StoredPart): Promise<boolean> {
    try {
      if (this.discarded()) throw new Error('The load failed.');
      await this.beforeWrite();
      await set(key, value, this.store);
      // The load may have failed, and its files been deleted, while this was written.
      if (this.discarded()) throw new Error('The load failed.');
      return true;
    } catch (error) {
      // The estimate is only an estimate: a write can still hit the quota. The download goes on unstored.
      this.failed = true;
      this.chunks = [];
      this.quotaExceeded = isQuotaError(error);
      await deleteStoredFile(this.url, { model: this.model, file: '', size: 0, parts: this.parts }, this.store).catch(() => undefined);
      if (!this.quotaExceeded && !this.discarded()) console.warn(`Could not store ${this.url}:`, error);
      return false;
    }
  }
}
