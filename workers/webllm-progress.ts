import type { InitProgressReport } from '@mlc-ai/web-llm';
import type { FileProgress } from './protocol';

export interface LoadProgress {
  files: FileProgress[];
  /** A step that is not a download, for the progress label. */
  stage?: string;
}

const MiB = 2 ** 20;
const percent = (fraction: number) => `${Math.floor(fraction * 100)}%`;

/**
 * WebLLM reports loading as an exact fraction plus a line of text (`Fetching param cache[3/50]:
 * 96MB fetched. 6% completed, …`). The download becomes one entry in the same file list the WASM
 * engine fills, in bytes; copying the weights to the GPU and compiling shaders become stages.
 */
export function webllmProgressTracker(weightsName: string): (report: InitProgressReport) => LoadProgress {
  let download: FileProgress | null = null;
  const files = () => (download ? [{ ...download }] : []);

  return ({ progress, text }) => {
    const fetched = /^Fetching param cache\[(\d+)\/(\d+)\]: (\d+)MB fetched/.exec(text);
    if (fetched) {
      // The fraction is exact; the megabytes are rounded up, so the total is re-estimated each time.
      const loaded = Number(fetched[3]) * MiB;
      const total = progress > 0 ? Math.round(loaded / progress) : (download?.total ?? 0);
      download = { file: weightsName, loaded: Math.round(progress * total), total, done: fetched[1] === fetched[2] };
      return { files: files() };
    }
    if (download && !download.done) download = { ...download, loaded: download.total, done: true };
    if (/^Loading model from cache\[/.test(text)) return { files: files(), stage: `Loading the weights onto the GPU: ${percent(progress)}` };
    if (/^Loading GPU shader modules\[/.test(text)) return { files: files(), stage: `Compiling GPU shaders: ${percent(progress)}` };
    if (/^Finish loading/.test(text)) return { files: files(), stage: 'Starting the model on the GPU' };
    return { files: files(), stage: `Preparing the GPU model: ${percent(progress)}` };
  };
}
