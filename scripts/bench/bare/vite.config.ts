import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { ONNX_RUNTIME_WEB_ALIAS } from '../../../vite.config';

/**
 * The bench-only page and worker (`npm run bench` builds them): the app's engine without the app.
 * Built apart from the app, so none of it reaches `dist/` or the service worker's precache.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  // The same onnxruntime-web build as the app's worker.
  resolve: { alias: ONNX_RUNTIME_WEB_ALIAS },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: fileURLToPath(new URL('../../../node_modules/.bench/bare', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
  },
});
