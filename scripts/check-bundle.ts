/**
 * Fails when WebLLM (about 2.2 MB gzipped) leaks out of its lazily loaded worker chunk: into the
 * page's entry chunk it would slow every first paint; into the worker's entry chunk, every CPU-only
 * session. Run after `vite build`.
 *   tsx scripts/check-bundle.ts [dist]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const assets = join(process.argv[2] ?? 'dist', 'assets');
// A string literal of WebLLM's (its weight cache's name) that survives minification.
const WEBLLM_MARKER = 'webllm/model';

const chunks = readdirSync(assets).filter((name) => name.endsWith('.js'));
const holders = chunks.filter((name) => readFileSync(join(assets, name), 'utf8').includes(WEBLLM_MARKER));
const misplaced = holders.filter((name) => !name.startsWith('webllm-engine-'));

if (holders.length === 0) {
  console.error(`No chunk contains WebLLM (looked for "${WEBLLM_MARKER}" in ${assets}); is the GPU engine still built?`);
  process.exit(1);
}
if (misplaced.length > 0) {
  console.error(`WebLLM is bundled into ${misplaced.join(', ')}; it belongs only in the lazily loaded webllm-engine chunk.`);
  process.exit(1);
}
console.log(`WebLLM is only in ${holders.join(', ')}.`);
