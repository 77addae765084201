/** Set for the tab's session once it has reloaded to come under the service worker. */
const ISOLATION_RELOAD = 'phi-chat.isolation-reload';

/**
 * The app's service worker: the app shell offline, cross-origin isolation on hosts that cannot
 * send the headers, and new versions that wait until the user chooses to reload.
 */
export class ServiceWorkerState {
  updateAvailable = $state(false);
  private applyUpdate: (() => Promise<void>) | null = null;

  /** `idle` says whether a reload now would interrupt nothing: no model loading, no conversation. */
  async start(idle: () => boolean) {
    if (!('serviceWorker' in navigator)) return;
    // Registering waits for nothing on screen: its code (and workbox-window's) comes after the first paint.
    const { registerSW } = await import('virtual:pwa-register');
    this.applyUpdate = registerSW({
      immediate: true,
      onNeedRefresh: () => {
        this.updateAvailable = true;
      },
      onRegisteredSW: () => void isolateOnce(idle),
    });
  }

  /** Activates the waiting version; the page reloads once it has taken over. */
  update() {
    void this.applyUpdate?.();
  }
}

/**
 * The first visit is served without the isolation headers (the service worker is not running
 * yet), so onnxruntime would be stuck on one thread. Once the worker is active, one reload puts
 * the page under it. Once per tab session at most, so it can never loop; and only while idle,
 * so it never interrupts a download or a conversation (the next visit is isolated anyway).
 */
async function isolateOnce(idle: () => boolean) {
  if (crossOriginIsolated || sessionStorage.getItem(ISOLATION_RELOAD)) return;
  await navigator.serviceWorker.ready;
  if (!idle()) return;
  sessionStorage.setItem(ISOLATION_RELOAD, '1');
  location.reload();
}
