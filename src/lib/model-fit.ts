import { formatBytes } from './format';

/**
 * Whether a model can fit this device, judged before a byte of it is downloaded. The browser's
 * numbers are rough (`navigator.deviceMemory` is rounded down to a power of two and capped at 8,
 * `storage.estimate()` may differ from what is really allowed), so a refusal on them can be
 * overridden with "Load anyway"; only wasm32's 4 GiB heap is a hard limit.
 */
export interface FitNeeds {
  name: string;
  /** Which build the check is for: the CPU one is held in the tab's memory. */
  engine: 'cpu' | 'gpu';
  downloadBytes: number;
  /** Already in this device's storage: nothing to download. */
  stored: boolean;
}

export interface DeviceRoom {
  /** `navigator.deviceMemory`, GiB; absent where the browser does not say. */
  deviceMemoryGiB?: number;
  /** `quota - usage` from `navigator.storage.estimate()`; absent where it does not say. */
  freeBytes?: number;
}

export type Fit = { fits: true } | { fits: false; reason: string; overridable: boolean };

const GiB = 2 ** 30;
/** onnxruntime-web is wasm32: its whole heap, weights included, stays under 4 GiB. */
const WASM_HEAP = 4 * GiB;
/**
 * The CPU build needs its weights about twice over while it loads (the downloaded file and
 * onnxruntime's copy in its heap; phi-2-shaped loads peaked at about three times, see the README).
 */
export const CPU_MEMORY_FACTOR = 2;
/** Browsers report at most this much device memory, whatever the device has. */
const DEVICE_MEMORY_CAP_GIB = 8;

export function checkFit(needs: FitNeeds, room: DeviceRoom): Fit {
  const { name, engine, downloadBytes } = needs;
  if (engine === 'cpu' && downloadBytes >= WASM_HEAP) {
    return { fits: false, overridable: false, reason: `${name} (${formatBytes(downloadBytes)}) is larger than the 4 GB a browser tab can give the CPU engine, so it cannot run on this device's CPU.` };
  }
  const memoryNeed = downloadBytes * CPU_MEMORY_FACTOR;
  const memory = room.deviceMemoryGiB;
  // A device reporting the cap may have any amount more, so it cannot be ruled out.
  if (engine === 'cpu' && memory !== undefined && memory < DEVICE_MEMORY_CAP_GIB && memory * GiB < memoryNeed) {
    return {
      fits: false,
      overridable: true,
      reason: `${name} needs about ${formatBytes(memoryNeed)} of memory on the CPU, and this device reports ${memory} GB: it would likely crash the tab.`,
    };
  }
  if (!needs.stored && room.freeBytes !== undefined && room.freeBytes < downloadBytes) {
    return {
      fits: false,
      overridable: true,
      reason: `${name} is a ${formatBytes(downloadBytes)} download, and the browser lets this site store only ${formatBytes(Math.max(0, room.freeBytes))} more.`,
    };
  }
  return { fits: true };
}
