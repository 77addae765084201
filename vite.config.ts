import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// Cross-origin isolation lets onnxruntime-web use threads (SharedArrayBuffer).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Relative asset URLs: the build works from any sub-path (e.g. a GitHub Pages project site).
  base: './',
  plugins: [svelte()],
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  server: { headers: isolation },
  preview: { headers: isolation, port: 4173 },
  test: {
    include: ['{src,workers,scripts}/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
