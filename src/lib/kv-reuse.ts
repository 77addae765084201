/** `?kv=off` turns the worker's KV-cache reuse off (a full prefill for every request), for comparisons. */
export function kvReuseFromSearch(search: string): boolean {
  return new URLSearchParams(search).get('kv') !== 'off';
}
