/** What the built app weighs: the JS a first paint waits for, the worker chunk, the precache. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface BundleBytes {
  /** The entry scripts of index.html and everything they import statically, gzipped. */
  firstPaintJsGzip: number;
  firstPaintFiles: string[];
  /** The inference worker's entry chunk, gzipped (WebLLM's own chunk is fetched only on the GPU path). */
  workerChunkGzip: number;
  workerChunk: string;
  /** What the service worker downloads and keeps on install, uncompressed. */
  precacheBytes: number;
  precacheEntries: number;
}

/** Issue 8's budget for the gzipped JS a first paint waits for. */
export const FIRST_PAINT_BUDGET = 40 * 1024;

const gzipped = (file: string) => gzipSync(readFileSync(file), { level: 9 }).length;

/** `file` (relative to `dist`) and the chunks it imports statically, in the order met. */
export function staticImports(dist: string, file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const code = readFileSync(join(dist, file), 'utf8');
  // Minified static imports: `import{a as b}from"./x.js"` or `import"./x.js"`; dynamic `import("...")` is not one.
  const found = [...code.matchAll(/(?:^|[;\n}])\s*import\s*(?:[\w$*{}\s,]+from\s*)?["'](\.{1,2}\/[^"']+)["']/g)].map((m) => posix.normalize(posix.join(posix.dirname(file), m[1])));
  return [file, ...found.flatMap((next) => staticImports(dist, next, seen))];
}

export function measureBundle(dist = 'dist'): BundleBytes {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const entries = [...html.matchAll(/<script[^>]*type="module"[^>]*src="\.?\/?([^"]+)"/g), ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="\.?\/?([^"]+)"/g)].map((m) => m[1]);
  const seen = new Set<string>();
  const firstPaintFiles = entries.flatMap((entry) => staticImports(dist, entry, seen));
  const sw = readFileSync(join(dist, 'sw.js'), 'utf8');
  const urls = [...new Set([...sw.matchAll(/["']?url["']?\s*:\s*["']([^"']+)["']/g)].map((m) => m[1]))];
  const worker = readdirSync(join(dist, 'assets')).find((file) => /^inference\.worker-.*\.js$/.test(file));
  if (!worker) throw new Error(`No assets/inference.worker-*.js in ${dist}: is the app built?`);
  const workerChunk = posix.join('assets', worker);
  return {
    firstPaintJsGzip: firstPaintFiles.reduce((sum, file) => sum + gzipped(join(dist, file)), 0),
    firstPaintFiles,
    workerChunkGzip: gzipped(join(dist, workerChunk)),
    workerChunk,
    precacheBytes: urls.reduce((sum, url) => sum + statSync(join(dist, url)).size, 0),
    precacheEntries: urls.length,
  };
}
