import { onnxPath, probeFile, probeOrder, weightsInFolder, type WeightsChoice } from '../../workers/model-files';

/**
 * Which weights a model folder URL has, so that nobody has to guess the dtype: the folder's own
 * listing where its server gives one (the Hugging Face API), else a probe of every graph and dtype
 * transformers.js could load, in the order they are preferred. Only the folder's own server is asked.
 */
export type Detection =
  | { kind: 'found'; choices: WeightsChoice[] }
  /** Every file asked for was answered "not here". */
  | { kind: 'none'; tried: string[] }
  /** The server would not say (a cross-origin server that refuses the requests, errors). */
  | { kind: 'unknown' };

/** The repository of a Hugging Face folder URL (`https://huggingface.co/<owner>/<name>[/resolve/main]/`), else null. */
export function hubRepo(folderUrl: string): string | null {
  const url = new URL(folderUrl);
  if (url.hostname !== 'huggingface.co' && url.hostname !== 'hf.co') return null;
  const match = /^\/([\w.-]+)\/([\w.-]+)(?:\/resolve\/main)?\/?$/.exec(url.pathname);
  return match && match[1] !== 'api' ? `${match[1]}/${match[2]}` : null;
}

async function hubListing(repo: string, fetchFile: typeof fetch): Promise<string[] | null> {
  try {
    const response = await fetchFile(`https://huggingface.co/api/models/${repo}/tree/main/onnx`);
    if (!response.ok) return null;
    const entries = (await response.json()) as { type?: string; path?: string }[];
    return Array.isArray(entries) ? entries.filter((e) => e.type === 'file' && typeof e.path === 'string').map((e) => e.path!) : null;
  } catch {
    return null;
  }
}

export async function detectWeights(folderUrl: string, fetchFile: typeof fetch = (input, init) => fetch(input, init)): Promise<Detection> {
  const repo = hubRepo(folderUrl);
  const listing = repo ? await hubListing(repo, fetchFile) : null;
  if (listing) {
    const choices = weightsInFolder(listing);
    return choices.length ? { kind: 'found', choices } : { kind: 'none', tried: ['onnx/'] };
  }
  const candidates = probeOrder();
  const presence = await Promise.all(candidates.map(({ file, dtype }) => probeFile(`${folderUrl}${onnxPath(file, dtype)}`, fetchFile)));
  const choices = candidates.filter((_, i) => presence[i] === 'present');
  if (choices.length) return { kind: 'found', choices };
  if (presence.every((p) => p === 'absent')) return { kind: 'none', tried: candidates.map(({ file, dtype }) => onnxPath(file, dtype)) };
  return { kind: 'unknown' };
}

/** How a choice reads in a list of them: its dtype and file, and where its weights are. */
export function choiceLabel({ file, dtype, externalData }: WeightsChoice): string {
  return `${dtype} · ${onnxPath(file, dtype)}${externalData ? ' + .onnx_data' : ''}`;
}
