/**
 * What a part of the page says when its code, a chunk of its own, could not be loaded (offline
 * without the service worker's copy, or a new version deployed meanwhile). Chromium keeps a failed
 * import failed for the page's life, so only a reload tries again.
 */
export const chunkFailed = (what: string) => `${what} could not be shown: part of the app could not be loaded. Reload the page to try again.`;
