import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';

/** The generated model, served by the test server under /models/ (see playwright.config.ts). */
export const TINY_MODEL = '/models/phi-tiny/';
/**
 * A WebLLM mirror on the test server that serves nothing: no MLC weights can be had here, and the
 * GPU engine must never reach for the hosted ones.
 */
export const EMPTY_WEBLLM_MIRROR = '/webllm/';
export const modelLink = (folder = TINY_MODEL) =>
  `./?model=${encodeURIComponent(folder)}&dtype=fp32&webllm=${encodeURIComponent(EMPTY_WEBLLM_MIRROR)}`;

/**
 * Every test runs with the network cut off at the browser: a request to anything but the local
 * server is aborted and fails the test. That is how the suite proves nothing leaves the device.
 * The route covers the pages, their workers and the service worker's own fetches (see
 * offline.spec.ts); `externalRequests` lists what was blocked.
 */
export const test = base.extend<{ page: Page; externalRequests: string[] }>({
  externalRequests: [
    async ({ context, baseURL }, use) => {
      const origin = new URL(baseURL!).origin;
      const external: string[] = [];
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(origin)) return route.continue();
        external.push(url);
        return route.abort('blockedbyclient');
      });
      await use(external);
      expect(external, 'requests that left the device').toEqual([]);
    },
    { auto: true },
  ],
  page: async ({ page }, use) => {
    page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
    await use(page);
  },
});

export { expect };

/**
 * The app's inference workers, not onnxruntime's own: on more than one thread, onnxruntime-web
 * starts a worker per extra thread, which Playwright lists among the page's workers too.
 */
export const inferenceWorkers = (page: Page) => page.workers().filter((worker) => /inference\.worker/.test(worker.url()));

export async function loadTinyModel(page: Page) {
  await page.goto(modelLink());
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('transformers.js');
}

/** Sets Max new tokens in Settings (long replies stream for seconds, short ones end at once). */
export async function setMaxNewTokens(page: Page, tokens: number) {
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await settings.getByRole('spinbutton', { name: 'Max new tokens' }).fill(String(tokens));
  await settings.getByRole('spinbutton', { name: 'Max new tokens' }).blur();
  await settings.getByRole('button', { name: 'Close' }).click();
}

export async function sendMessage(page: Page, text: string) {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}

/** The n-th reply (0-based) in the conversation. */
export const reply = (page: Page, n: number) => page.getByRole('article', { name: 'phi-2 replied' }).nth(n);

export async function waitForReplyEnd(page: Page, n: number) {
  await expect(reply(page, n)).toHaveAttribute('aria-busy', 'false', { timeout: 60_000 });
}

/**
 * Every request for WebLLM from the page or its worker: its code chunk or a file from the mirror.
 * The service worker's precache of the app (which includes the lazy WebLLM chunk, for offline use)
 * is not the engine being loaded, so its requests are left out.
 */
export function recordWebLLMRequests(context: BrowserContext): string[] {
  const urls: string[] = [];
  context.on('request', (request) => {
    if (!request.serviceWorker() && /webllm/i.test(new URL(request.url()).pathname)) urls.push(request.url());
  });
  return urls;
}

export async function expectChatToWork(page: Page) {
  await sendMessage(page, 'Do you sell laptops?');
  await waitForReplyEnd(page, 0);
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
}

/** Resolves once the service worker is active, so the app and its runtime are stored for offline use. */
export async function serviceWorkerReady(page: Page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
}
