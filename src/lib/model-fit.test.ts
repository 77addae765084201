import { describe, expect, it } from 'vitest';
import { checkFit, type FitNeeds } from './model-fit';

const phi2Cpu: FitNeeds = { name: 'phi-2', engine: 'cpu', downloadBytes: 2.78e9, stored: false };
const GB = 1e9;

describe('checkFit', () => {
  it('lets a model load where the device reports enough memory and storage', () => {
    expect(checkFit(phi2Cpu, { deviceMemoryGiB: 8, freeBytes: 100 * GB })).toEqual({ fits: true });
    // Nothing reported: nothing to go on, so nothing is refused.
    expect(checkFit(phi2Cpu, {})).toEqual({ fits: true });
  });

  it('refuses the CPU build where the reported memory is below twice its weights, with Load anyway', () => {
    expect(checkFit(phi2Cpu, { deviceMemoryGiB: 4, freeBytes: 100 * GB })).toEqual({
      fits: false,
      overridable: true,
      reason: 'phi-2 needs about 5.6 GB of memory on the CPU, and this device reports 4 GB: it would likely crash the tab.',
    });
    expect(checkFit({ ...phi2Cpu, name: 'Qwen2.5 0.5B Instruct', downloadBytes: 0.52 * GB }, { deviceMemoryGiB: 2 })).toEqual({ fits: true });
  });

  it('never rules a device out on memory when it reports the browsers’ cap of 8 GB, and ignores memory for the GPU build', () => {
    expect(checkFit({ ...phi2Cpu, downloadBytes: 3.9 * GB }, { deviceMemoryGiB: 8 })).toEqual({ fits: true });
    expect(checkFit({ ...phi2Cpu, engine: 'gpu', downloadBytes: 1.6 * GB }, { deviceMemoryGiB: 1 })).toEqual({ fits: true });
  });

  it('refuses a download larger than the storage left, unless the model is already stored', () => {
    const fit = checkFit(phi2Cpu, { deviceMemoryGiB: 8, freeBytes: 1 * GB });
    expect(fit).toEqual({ fits: false, overridable: true, reason: 'phi-2 is a 2.8 GB download, and the browser lets this site store only 1.0 GB more.' });
    expect(checkFit({ ...phi2Cpu, stored: true }, { deviceMemoryGiB: 8, freeBytes: 1 * GB })).toEqual({ fits: true });
  });

  it('refuses for good a CPU build beyond wasm32’s 4 GiB heap', () => {
    expect(checkFit({ ...phi2Cpu, name: 'Huge', downloadBytes: 4.5 * GB }, { deviceMemoryGiB: 8 })).toMatchObject({ fits: false, overridable: false, reason: expect.stringContaining('cannot run on this device') });
  });
});
