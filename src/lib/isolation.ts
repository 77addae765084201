/**
 * Cross-origin isolation lets onnxruntime-web use threads (SharedArrayBuffer). Servers that can
 * send these headers do (vite, scripts/serve.ts); everywhere else the service worker adds them.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;
