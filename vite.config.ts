import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import { defineConfig } from 'vitest/config';
import { ISOLATION_HEADERS } from './src/lib/isolation';

/**
 * transformers.js imports onnxruntime-web's WebGPU build, whose bundle inlines the asyncify
 * runtime and makes Vite emit its 27 MB .wasm. The CPU engine is the only user of onnxruntime here
 * (the GPU runs WebLLM), so it gets the WebAssembly-only API, which loads the runtime the engine
 * names (the plain ort-wasm-simd-threaded pair, 14 MB): half the download, and a session made in
 * half the time (README, Measure it). scripts/check-bundle.ts fails if the asyncify one is emitted.
 */
export const ONNX_RUNTIME_WEB_ALIAS = [
  { find: /^onnxruntime-web\/webgpu$/, replacement: fileURLToPath(new URL('./node_modules/onnxruntime-web/dist/ort.wasm.min.mjs', import.meta.url)) },
];

export default defineConfig({
  // Relative asset URLs: the build works from any sub-path (e.g. a GitHub Pages project site).
  base: './',
  plugins: [
    svelte(),
    VitePWA({
      // Our own service worker: it must add the isolation headers to what it serves.
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      // The manifest and its icons are precached on their own; this one is only in index.html.
      includeAssets: ['icons/apple-touch-icon.png'],
      injectManifest: {
        rollupFormat: 'iife',
        // The app shell, the inference worker and onnxruntime's WASM (about 14 MB): all it needs offline.
        globPatterns: ['**/*.{html,js,mjs,css,wasm,svg}'],
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
      },
      manifest: {
        name: 'Phi Chat',
        short_name: 'Phi Chat',
        description: 'A private chatbot: microsoft/phi-2 running entirely in your browser.',
        // Relative to the manifest, so an install works from whatever sub-path the app is served at
        // (and, with no `id`, the start URL tells apart two copies on one origin).
        start_url: './',
        scope: './',
        display: 'standalone',
        theme_color: '#1f2937',
        background_color: '#f7f7fb',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
    }),
  ],
  resolve: { alias: ONNX_RUNTIME_WEB_ALIAS },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2048,
    // The polyfill would weigh on every first paint to help only browsers without modulepreload
    // (Safari before 17), which still load every chunk, a little later.
    modulePreload: { polyfill: false },
  },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS, port: 4173 },
  test: {
    include: ['{src,workers,scripts}/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
