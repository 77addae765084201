/// <reference lib="webworker" />
import { addPlugins, cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { ISOLATION_HEADERS } from './lib/isolation';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Parameters<typeof precacheAndRoute>[0] };

/** The same response with the isolation headers, which hosts such as GitHub Pages cannot send. */
function isolated(response: Response): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

// Everything the worker serves comes from the precache: the page, its scripts, the inference
// worker and onnxruntime's WASM. Model files are not in it; they pass through untouched to the
// network, and the inference worker keeps them in IndexedDB.
addPlugins([{ handlerWillRespond: async ({ response }) => isolated(response) }]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// Any page of the app, with any query (such as ?model=), opens offline.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));

// A new version waits until the user chooses to reload ("Update available").
self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
