import type { WeightsChoice } from '../../workers/model-files';
import type { Dtype, LoadModel, ModelSource } from '../../workers/protocol';
import { isLocalModel, localModelName } from '../../workers/weights-store';
import { catalogModel, catalogModelOf, DEFAULT_MODEL, loadModelOf, type CatalogModel } from './model-catalog';

/** phi-2 for transformers.js (see the README for why this export). */
export const DEFAULT_SOURCE: ModelSource = DEFAULT_MODEL.cpu!.source;

/**
 * The model the user chose: one from the catalog (its CPU files possibly from a folder of the
 * deployment's own, `cpuSource`), or a custom folder outside the list, which runs on the CPU only.
 */
export type ModelChoice = { kind: 'catalog'; id: string; cpuSource?: ModelSource } | { kind: 'custom'; source: ModelSource };

export const DEFAULT_CHOICE: ModelChoice = { kind: 'catalog', id: DEFAULT_MODEL.id };

export const DTYPES: readonly Dtype[] = ['q8', 'q4', 'q4f16', 'fp16', 'fp32'];
const STORAGE_KEY = 'phi-chat.model-source';
const CHOICE_KEY = 'phi-chat.model';

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

/**
 * The URL the engine downloads a source's files under, which prefixes their keys in the weights
 * store: the folder itself, or the hub repository's `resolve/main/` (as transformers-engine.ts builds it).
 */
export function sourceFolderUrl(source: ModelSource): string {
  if (/^https?:\/\//i.test(source.id)) return source.id.endsWith('/') ? source.id : `${source.id}/`;
  return `https://huggingface.co/${source.id}/resolve/main/`;
}

/** Whether any file of the source is in the weights store, from the stored files' URLs. */
export function isStored(source: ModelSource, storedUrls: readonly string[]): boolean {
  const folder = sourceFolderUrl(source);
  return storedUrls.some((url) => url.startsWith(folder));
}

/** A name short enough for a status line: the folder's or repository's last path segment. */
export function shortModelName(id: string): string {
  if (isLocalModel(id)) return `${localModelName(id)} (from disk)`;
  return id.split('/').filter(Boolean).at(-1) ?? id;
}

/** What the user calls a model, from the id its engine reports: a catalog model's name, else its short name. */
export function modelDisplayName(id: string): string {
  return catalogModelOf(id)?.name ?? shortModelName(id);
}

export function choiceCatalogModel(choice: ModelChoice): CatalogModel | undefined {
  return choice.kind === 'catalog' ? catalogModel(choice.id) : undefined;
}

/** What the picker, the status lines and the reply labels call the choice. */
export function choiceName(choice: ModelChoice): string {
  return choice.kind === 'catalog' ? (catalogModel(choice.id)?.name ?? choice.id) : shortModelName(choice.source.id);
}

/** The transformers.js files of the choice; none for a catalog model without a CPU build. */
export function choiceSource(choice: ModelChoice): ModelSource | undefined {
  return choice.kind === 'custom' ? choice.source : (choice.cpuSource ?? catalogModel(choice.id)?.cpu?.source);
}

/** What the worker is told about the choice; a custom folder is a base model on the CPU until it says otherwise. */
export function choiceLoadModel(choice: ModelChoice): LoadModel {
  const model = choiceCatalogModel(choice);
  return model ? loadModelOf(model) : { name: choiceName(choice), gpuVariants: [] };
}

export function sameChoice(a: ModelChoice, b: ModelChoice): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A choice read back from storage or an import: anything malformed is dropped. */
export function readChoice(value: unknown): ModelChoice | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const choice = value as Record<string, unknown>;
  if (choice.kind === 'catalog' && typeof choice.id === 'string' && catalogModel(choice.id)) {
    const cpuSource = readSource(choice.cpuSource);
    return { kind: 'catalog', id: choice.id, ...(cpuSource ? { cpuSource } : {}) };
  }
  const source = choice.kind === 'custom' ? readSource(choice.source) : undefined;
  return source ? { kind: 'custom', source } : undefined;
}

/** A folder URL, or a folder from the user's disk kept in the weights store (`local:<name>`). */
function readSource(value: unknown): ModelSource | undefined {
  const source = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof source.id !== 'string' || !(/^https?:\/\//.test(source.id) || isLocalModel(source.id)) || !isDtype(source.dtype as string) || typeof source.file !== 'string') return undefined;
  return { id: source.id, dtype: source.dtype as Dtype, file: source.file, externalData: source.externalData === true };
}

const isDtype = (value: string | null): value is Dtype => DTYPES.includes(value as Dtype);

/**
 * The model to load: a `?model=` link wins (with optional `dtype`, `file`, `external=1` for
 * weights in an `.onnx_data` file, and `as=<catalog id>` when the folder holds that catalog
 * model's CPU build, e.g. a deployment's own copy of phi-2), then the choice saved in settings,
 * then phi-2.
 */
export function resolveChoice(location: { href: string; search: string }, storage: Pick<Storage, 'getItem'>): ModelChoice {
  const params = new URLSearchParams(location.search);
  const model = params.get('model');
  if (model) {
    const dtype = params.get('dtype');
    const source = customSource(validateModelUrl(model, location.href), isDtype(dtype) ? dtype : 'q8', params.get('file') || 'model', params.get('external') === '1');
    const as = catalogModel(params.get('as') ?? undefined);
    return as ? { kind: 'catalog', id: as.id, cpuSource: source } : { kind: 'custom', source };
  }
  try {
    const saved = readChoice(JSON.parse(storage.getItem(CHOICE_KEY) ?? 'null'));
    if (saved) return saved;
    // Saved before the catalog: a custom folder under the old key.
    const source = readSource(JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null'));
    if (source) return { kind: 'custom', source };
  } catch {
    // A corrupt saved setting falls back to the default rather than blocking the app.
  }
  return DEFAULT_CHOICE;
}

export function saveChoice(choice: ModelChoice, storage: Pick<Storage, 'setItem' | 'removeItem'>) {
  storage.removeItem(STORAGE_KEY);
  if (sameChoice(choice, DEFAULT_CHOICE)) storage.removeItem(CHOICE_KEY);
  else storage.setItem(CHOICE_KEY, JSON.stringify(choice));
}
