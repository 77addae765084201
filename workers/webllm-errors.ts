/**
 * WebLLM's errors are written for developers (and some end in a link to a web page); the user gets
 * one sentence instead, and the original stays available as technical detail. The patterns follow
 * the messages of @mlc-ai/web-llm 0.2.86 and its runtime.
 */
export function explainWebLLMError(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  const text = error instanceof Error ? error.message : String(error);

  if (name === 'DeviceLostError' || /device (was |is )?lost/i.test(text)) {
    return 'The GPU ran out of memory or was reset while loading the model.';
  }
  if (name === 'ShaderF16SupportError') return 'This graphics adapter lacks shader-f16, which this model variant needs.';
  const feature = /requires feature (\S+?),/.exec(text);
  if (name === 'FeatureSupportError' && feature) return `This graphics adapter lacks ${feature[1]}, which this model needs.`;
  if (name === 'WebGPUNotAvailableError' || name === 'WebGPUNotFoundError') return 'This browser does not offer WebGPU.';
  if (/Unable to find a compatible GPU/.test(text)) return 'WebGPU found no graphics adapter.';
  const limit = /requested (\w+) exceeds limit/.exec(text);
  if (limit) return `This graphics adapter's ${limit[1]} is too small for WebLLM.`;
  if (isStorageFull(error)) return STORAGE_FULL;
  const download = /Failed to store (\S+) with error: (.*)/.exec(text);
  if (download) {
    return /failed to fetch|networkerror|load failed/i.test(download[2])
      ? `Could not download ${download[1]}: the network request failed.`
      : `Could not download ${download[1]}.`;
  }
  if (/failed to fetch|networkerror/i.test(text)) return 'A model file could not be downloaded: the network request failed.';
  if (/out of memory|OutOfMemory|could not allocate|allocation failed/i.test(text)) return 'The GPU ran out of memory.';
  return `WebLLM failed: ${text.split('\n')[0]}`;
}

export const STORAGE_FULL =
  'There is no room left to store the GPU model (WebLLM keeps its files on this device): free some space, for example by deleting stored models under Storage, then load it again.';

/**
 * WebLLM writes each file to IndexedDB inside the same try as its download, and rewraps whatever
 * fails as `Error("Failed to store <url> with error: QuotaExceededError: …")` (lib/index.js
 * 6727–6737); other backends let the DOMException through. So the quota error is looked for by
 * name along the error's causes, and by name or wording in their messages.
 */
function isStorageFull(error: unknown): boolean {
  for (let link = error, depth = 0; link !== undefined && link !== null && depth < 8; depth++) {
    const name = link instanceof Error || link instanceof DOMException ? link.name : '';
    const text = link instanceof Error || link instanceof DOMException ? link.message : String(link);
    if (name === 'QuotaExceededError' || /QuotaExceededError|quota (has been |was )?exceeded|full disk|disk is full|no space left/i.test(text)) return true;
    link = link instanceof Error ? link.cause : undefined;
  }
  return false;
}
