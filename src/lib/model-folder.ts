import { configExternalData, dataPath, onnxPath, weightsInFolder, type WeightsChoice } from '../../workers/model-files';

/**
 * Checking a model folder from the user's disk before anything is stored: what a transformers.js
 * causal LM needs (config.json, tokenizer.json, an ONNX graph, and its data file where the config
 * says it has one), each missing file named.
 */

export interface FolderFile {
  /** Path inside the folder, e.g. `onnx/model.onnx`. */
  path: string;
  file: File;
}

/**
 * A folder `<input>`'s files, by their path inside the chosen folder: `webkitRelativePath` starts
 * with the folder's own name, which is the model's name.
 */
export function filesFromInput(files: Iterable<File>): { name: string; files: FolderFile[] } {
  let name = '';
  const entries: FolderFile[] = [];
  for (const file of files) {
    const [top = '', ...rest] = (file.webkitRelativePath || file.name).split('/');
    name ||= top;
    entries.push({ path: rest.length ? rest.join('/') : top, file });
  }
  return { name, files: entries };
}

export type FolderCheck = { ok: true; choices: WeightsChoice[] } | { ok: false; message: string };

/** `config` is config.json parsed, or `undefined` when it is not JSON. */
export function checkModelFolder(name: string, paths: readonly string[], config: unknown): FolderCheck {
  const present = new Set(paths);
  for (const required of ['config.json', 'tokenizer.json']) {
    if (!present.has(required)) return { ok: false, message: `The folder "${name}" has no ${required}: it is not a transformers.js model folder.` };
  }
  if (config === undefined || typeof config !== 'object' || config === null) {
    return { ok: false, message: 'config.json is broken or not part of a transformers.js model.' };
  }
  const found = weightsInFolder(paths);
  if (!found.length) {
    return { ok: false, message: `The folder "${name}" has no weights: no onnx/model*.onnx or onnx/decoder_model_merged*.onnx.` };
  }
  const choices = found.filter((choice) => choice.externalData || !configExternalData(config, choice.file, choice.dtype));
  if (!choices.length) {
    const [first] = found;
    return { ok: false, message: `Missing weights file ${dataPath(first!.file, first!.dtype)}: config.json says ${onnxPath(first!.file, first!.dtype)} keeps its weights in it.` };
  }
  return { ok: true, choices };
}

/**
 * The files to store for one choice of weights: the folder's JSON files (config, tokenizer,
 * generation config) and that graph with its data; not the other dtypes' graphs, which can be GBs.
 */
export function filesToStore(files: readonly FolderFile[], choice: WeightsChoice): FolderFile[] {
  const graph = onnxPath(choice.file, choice.dtype);
  return files.filter(({ path }) => (!path.includes('/') && path.endsWith('.json')) || path === graph || path.startsWith(`${graph}_data`));
}
