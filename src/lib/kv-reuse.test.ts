import { describe, expect, it } from 'vitest';
import { kvReuseFromSearch } from './kv-reuse';

describe('kvReuseFromSearch', () => {
  it('is on unless the link says kv=off', () => {
    expect(kvReuseFromSearch('')).toBe(true);
    expect(kvReuseFromSearch('?model=/m/&kv=on')).toBe(true);
    expect(kvReuseFromSearch('?kv=off')).toBe(false);
    expect(kvReuseFromSearch('?model=/m/&kv=off&dtype=fp32')).toBe(false);
  });
});
