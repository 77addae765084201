import type { StorageShortfall } from '../../workers/protocol';
import { formatBytes } from './format';

/** Why the model will be downloaded again: it did not fit in what the browser lets this site keep. */
export function notCachedMessage(modelName: string, { modelBytes, freeBytes }: StorageShortfall): string {
  const free = freeBytes === undefined ? '' : ` (${formatBytes(freeBytes)} free)`;
  return `${modelName} (${formatBytes(modelBytes)}) does not fit in the storage this browser allows${free}; it will be downloaded again next time.`;
}

/** The storage panel's summary line, from `navigator.storage.estimate()`. */
export function usageSummary({ usage, quota }: StorageEstimate): string {
  if (usage === undefined) return 'This browser does not say how much storage the app uses.';
  if (quota === undefined) return `The app uses ${formatBytes(usage)} on this device.`;
  return `The app uses ${formatBytes(usage)} of the ${formatBytes(quota)} this browser allows it.`;
}
