/**
 * Fails when the built app outgrows what its first paint and its offline use allow: more than
 * issue 8's 40 KB of gzipped JS before the first paint (the entry and its static imports); an
 * asset the service worker does not precache (a lazily loaded chunk would then fail offline); or
 * WebLLM (about 2.2 MB gzipped) out of its lazily loaded worker chunk: into the page's entry chunk
 * it would slow every first paint, into the worker's entry chunk every CPU-only session; or more
 * than the one onnxruntime-web runtime the CPU engine loads (the plain build: the 27 MB asyncify
 * one comes back if transformers.js changes how it imports onnxruntime-web and the alias in
 * vite.config.ts no longer matches).
 * Run after `vite build`.
 *   tsx scripts/check-bundle.ts [dist]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIRST_PAINT_BUDGET, measureBundle } from './bench/bytes';

const dist = process.argv[2] ?? 'dist';
const assets = join(dist, 'assets');
// A string literal of WebLLM's (its weight cache's name) that survives minification.
const WEBLLM_MARKER = 'webllm/model';
const failures: string[] = [];

const { firstPaintJsGzip, firstPaintFiles } = measureBundle(dist);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
if (firstPaintJsGzip > FIRST_PAINT_BUDGET) {
  failures.push(
    `The JS before first paint is ${kb(firstPaintJsGzip)} gzipped, over the ${kb(FIRST_PAINT_BUDGET)} budget: ${firstPaintFiles.join(', ')}. ` +
      'Load what the first screen does not show with a dynamic import().',
  );
}

const files = readdirSync(assets);
const serviceWorker = readFileSync(join(dist, 'sw.js'), 'utf8');
const unprecached = files.filter((name) => !serviceWorker.includes(`assets/${name}`));
if (unprecached.length > 0) failures.push(`The service worker does not precache ${unprecached.join(', ')}: offline, what needs them would not load.`);

const chunks = files.filter((name) => name.endsWith('.js'));
const holders = chunks.filter((name) => readFileSync(join(assets, name), 'utf8').includes(WEBLLM_MARKER));
const misplaced = holders.filter((name) => !name.startsWith('webllm-engine-'));
if (holders.length === 0) failures.push(`No chunk contains WebLLM (looked for "${WEBLLM_MARKER}" in ${assets}); is the GPU engine still built?`);
if (misplaced.length > 0) failures.push(`WebLLM is bundled into ${misplaced.join(', ')}; it belongs only in the lazily loaded webllm-engine chunk.`);

const runtimes = files.filter((name) => /^ort-wasm.*\.wasm$/.test(name));
if (runtimes.length !== 1 || runtimes[0].includes('asyncify')) {
  failures.push(`The build holds onnxruntime-web runtimes ${runtimes.join(', ') || '(none)'}: the CPU engine loads exactly one, the plain ort-wasm-simd-threaded.wasm (see ONNX_RUNTIME_WEB_ALIAS in vite.config.ts).`);
}

if (failures.length > 0) {
  for (const failure of failures) console.error(failure);
  process.exit(1);
}
console.log(`JS before first paint: ${kb(firstPaintJsGzip)} gzipped of ${kb(FIRST_PAINT_BUDGET)} (${firstPaintFiles.join(', ')}); every asset precached; WebLLM only in ${holders.join(', ')}; one onnxruntime runtime, ${runtimes[0]}.`);
