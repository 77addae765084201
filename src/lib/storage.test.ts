import { describe, expect, it } from 'vitest';
import { notCachedMessage, usageSummary } from './storage';

describe('storage messages', () => {
  it('says which model did not fit, how big it is and how much room there was', () => {
    expect(notCachedMessage('phi-2', { modelBytes: 2_836_000_000, freeBytes: 1_204_000_000 })).toBe(
      'phi-2 (2.8 GB) does not fit in the storage this browser allows (1.2 GB free); it will be downloaded again next time.',
    );
  });

  it('leaves out the free space when the browser got it wrong', () => {
    expect(notCachedMessage('phi-tiny', { modelBytes: 879_751 })).toBe(
      'phi-tiny (879.8 KB) does not fit in the storage this browser allows; it will be downloaded again next time.',
    );
  });

  it('sums up usage against the quota, or what the browser tells of it', () => {
    expect(usageSummary({ usage: 27_400_000, quota: 10_000_000_000 })).toBe('The app uses 27.4 MB of the 10.0 GB this browser allows it.');
    expect(usageSummary({ usage: 900 })).toBe('The app uses 900 B on this device.');
    expect(usageSummary({})).toBe('This browser does not say how much storage the app uses.');
  });
});
