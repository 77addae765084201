import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { measureBundle } from './bytes';

function fakeDist() {
  const dist = mkdtempSync(join(tmpdir(), 'bench-bytes-'));
  mkdirSync(join(dist, 'assets'));
  const files: Record<string, string> = {
    'index.html': '<script type="module" crossorigin src="./assets/index-a.js"></script>',
    // A static import is needed before first paint; a dynamic one is not.
    'assets/index-a.js': 'import{m as x}from"./shared-b.js";const l=()=>import("./lazy-c.js");x(l);',
    'assets/shared-b.js': 'export const m=(f)=>f;',
    'assets/lazy-c.js': 'export default "lazy ".repeat(500);',
    'assets/inference.worker-d.js': 'self.onmessage=()=>{};',
    'sw.js': 'precache([{"url":"index.html","revision":"1"},{"url":"assets/index-a.js","revision":null}]);',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dist, name), text);
  return { dist, files };
}

describe('bundle bytes', () => {
  it('counts the entry and its static imports before first paint, not lazy chunks', () => {
    const { dist, files } = fakeDist();
    const bytes = measureBundle(dist);
    expect(bytes.firstPaintFiles).toEqual(['assets/index-a.js', 'assets/shared-b.js']);
    const gz = (name: string) => gzipSync(files[name], { level: 9 }).length;
    expect(bytes.firstPaintJsGzip).toBe(gz('assets/index-a.js') + gz('assets/shared-b.js'));
    expect(bytes.workerChunk).toBe('assets/inference.worker-d.js');
    expect(bytes.precacheEntries).toBe(2);
    expect(bytes.precacheBytes).toBe(files['index.html'].length + files['assets/index-a.js'].length);
  });
});
