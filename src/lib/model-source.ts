import type { WeightsChoice } from '../../workers/model-files';
import type { Dtype, ModelSource } from '../../workers/protocol';
import { isLocalModel, localModelName } from '../../workers/weights-store';

/**
 * phi-2 for transformers.js: BricksDisplay/phi-2-q4 is an Optimum export with a merged decoder
 * (one graph with and without KV cache) whose quantized weights live in an external-data file;
 * see the README for why this one.
 */
export const DEFAULT_SOURCE: ModelSource = {
  id: 'BricksDisplay/phi-2-q4',
  dtype: 'q8',
  file: 'decoder_model_merged',
  externalData: true,
};

export const DTYPES: readonly Dtype[] = ['q8', 'q4', 'q4f16', 'fp16', 'fp32'];
const STORAGE_KEY = 'phi-chat.model-source';

/**
 * A custom folder URL defaults to transformers.js's own layout: `onnx/model<suffix>.onnx`.
 * `externalData: false` is no "no": the worker still finds a data file from the folder's config or
 * by its presence (`external=1` only skips that).
 */
export function customSource(url: string, dtype: Dtype = 'q8', file = 'model', externalData = false): ModelSource {
  return { id: url, dtype, file, externalData };
}

/** A folder from the user's disk, stored as `model` (`local:<name>`), with the weights found or chosen in it. */
export function localSource(model: string, { file, dtype, externalData }: WeightsChoice): ModelSource {
  return { id: model, dtype, file, externalData };
}

export function validateModelUrl(input: string, base: string): string {
  const trimmed = input.trim();
  if (!trimmed) throw new Error('Enter the URL of a model folder.');
  let url: URL;
  try {
    url = new URL(trimmed, base);
  } catch {
    throw new Error(`"${trimmed}" is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('The model URL must start with http:// or https://.');
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** A name short enough for a status line: the folder's or repository's last path segment. */
export function shortModelName(id: string): string {
  if (isLocalModel(id)) return `${localModelName(id)} (from disk)`;
  return id.split('/').filter(Boolean).at(-1) ?? id;
}

/** What the user calls a model: phi-2 for the default, else its short name. */
export function modelDisplayName(id: string): string {
  return id === DEFAULT_SOURCE.id ? 'phi-2' : shortModelName(id);
}

const isDtype = (value: string | null): value is Dtype => DTYPES.includes(value as Dtype);

/**
 * The source to load: a `?model=` link wins (with optional `dtype`, `file`, and `external=1` for
 * weights in an `.onnx_data` file), then the one saved in settings, then the default.
 */
export function resolveSource(location: { href: string; search: string }, storage: Pick<Storage, 'getItem'>): ModelSource {
  const params = new URLSearchParams(location.search);
  const model = params.get('model');
  if (model) {
    const dtype = params.get('dtype');
    return customSource(
      validateModelUrl(model, location.href),
      isDtype(dtype) ? dtype : 'q8',
      params.get('file') || 'model',
      params.get('external') === '1',
    );
  }
  try {
    const saved = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null') as ModelSource | null;
    if (saved && typeof saved.id === 'string' && isDtype(saved.dtype) && typeof saved.file === 'string') return saved;
  } catch {
    // A corrupt saved setting falls back to the default rather than blocking the app.
  }
  return DEFAULT_SOURCE;
}

export function saveSource(source: ModelSource, storage: Pick<Storage, 'setItem' | 'removeItem'>) {
  if (source.id === DEFAULT_SOURCE.id) storage.removeItem(STORAGE_KEY);
  else storage.setItem(STORAGE_KEY, JSON.stringify(source));
}
