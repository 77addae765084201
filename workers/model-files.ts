import type { Dtype } from './protocol';

/**
 * The file names of a transformers.js model folder, and how to tell from outside which of them a
 * folder has. Pure, apart from `probeFile`'s requests; shared by the worker and the UI.
 */

/** transformers.js's dtype suffixes: `onnx/<file><suffix>.onnx`. */
export const DTYPE_SUFFIX: Record<Dtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  q4: '_q4',
  q4f16: '_q4f16',
};

/** The order weights are preferred in: q8 is what the WASM engine runs best, fp32 the largest. */
export const DTYPE_ORDER: readonly Dtype[] = ['q8', 'q4', 'q4f16', 'fp16', 'fp32'];

/** The two graph names transformers.js loads a causal LM from: a plain export's, and Optimum's merged decoder. */
export const GRAPH_FILES = ['model', 'decoder_model_merged'] as const;

export const onnxPath = (file: string, dtype: Dtype) => `onnx/${file}${DTYPE_SUFFIX[dtype]}.onnx`;
export const dataPath = (file: string, dtype: Dtype) => `${onnxPath(file, dtype)}_data`;

/** A loadable set of weights in a folder. */
export interface WeightsChoice {
  file: string;
  dtype: Dtype;
  /** Known to keep its weights in `onnx/<file><suffix>.onnx_data`; false where that is not known. */
  externalData: boolean;
}

/** Every graph and dtype to look for, in the order they are preferred. */
export function probeOrder(): WeightsChoice[] {
  return DTYPE_ORDER.flatMap((dtype) => GRAPH_FILES.map((file) => ({ file, dtype, externalData: false })));
}

/** The weights a list of folder paths holds (`onnx/…` relative to the folder), in the order they are preferred. */
export function weightsInFolder(paths: Iterable<string>): WeightsChoice[] {
  const present = new Set(paths);
  return probeOrder()
    .filter(({ file, dtype }) => present.has(onnxPath(file, dtype)))
    .map((choice) => ({ ...choice, externalData: present.has(dataPath(choice.file, choice.dtype)) }));
}

/**
 * How many external-data files `config.json`'s `transformers.js_config.use_external_data_format`
 * gives the graph (a flag, a count, or a map by file name, as transformers.js reads it), or
 * undefined when the config does not say.
 */
export function configExternalData(config: unknown, file: string, dtype: Dtype): number | undefined {
  const value = (config as { 'transformers.js_config'?: { use_external_data_format?: unknown } } | null)?.['transformers.js_config']
    ?.use_external_data_format;
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object') {
    const name = onnxPath(file, dtype).slice('onnx/'.length);
    const map = value as Record<string, unknown>;
    if (Object.hasOwn(map, name)) return Number(map[name]);
    if (Object.hasOwn(map, file)) return Number(map[file]);
    return undefined;
  }
  return Number(value);
}

export type Presence = 'present' | 'absent' | 'unknown';

/**
 * Whether a file exists on a server: HEAD, or the first byte where HEAD is not allowed. An HTML
 * page is not a model file (single-page-app hosts answer every path with their index page), and a
 * request that fails outright (a cross-origin server that does not allow it) cannot tell.
 */
export async function probeFile(url: string, fetchFile: typeof fetch = fetch): Promise<Presence> {
  try {
    let response = await fetchFile(url, { method: 'HEAD', cache: 'no-store' });
    if (response.status === 405 || response.status === 501) {
      response = await fetchFile(url, { headers: { Range: 'bytes=0-0' }, cache: 'no-store' });
      await response.body?.cancel().catch(() => undefined);
    }
    if (response.status === 404 || response.status === 410) return 'absent';
    if (!response.ok) return 'unknown';
    return /text\/html/i.test(response.headers.get('Content-Type') ?? '') ? 'absent' : 'present';
  } catch {
    return 'unknown';
  }
}
