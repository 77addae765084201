import type { BrowserContext, Page } from '@playwright/test';
import { expect, loadTinyModel, modelLink, reply, sendMessage, serviceWorkerReady, test, waitForReplyEnd } from './fixtures';

/** Paths under /models/ that the page, its workers or the service worker asked the network for. */
function recordModelRequests(context: BrowserContext): string[] {
  const paths: string[] = [];
  context.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith('/models/')) paths.push(pathname);
  });
  return paths;
}

async function reloadAndLoadModel(page: Page) {
  await page.reload();
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('transformers.js');
}

const usage = (page: Page) => page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);

test('the second load of a model makes no request for its files', async ({ page, context }) => {
  const requests = recordModelRequests(context);
  await loadTinyModel(page);
  expect(requests).toContain('/models/phi-tiny/onnx/model.onnx');
  expect(requests).toContain('/models/phi-tiny/config.json');

  requests.length = 0;
  await reloadAndLoadModel(page);
  expect(requests).toEqual([]);
});

test('a damaged stored file is downloaded again, and the model still loads', async ({ page, context }) => {
  await loadTinyModel(page);
  // Cut the stored weights short while the record still claims their full size.
  const damaged = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('phi-chat-weights');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const key = new URL('/models/phi-tiny/onnx/model.onnx', location.href).href;
    const store = db.transaction('files', 'readwrite').objectStore('files');
    const record = await new Promise<{ size: number; blob: Blob }>((resolve) => {
      store.get(key).onsuccess = (event) => resolve((event.target as IDBRequest).result);
    });
    store.put({ ...record, blob: record.blob.slice(0, 1000) }, key);
    await new Promise((resolve) => (store.transaction.oncomplete = resolve));
    db.close();
    return record.size;
  });
  expect(damaged).toBeGreaterThan(1000);

  const requests = recordModelRequests(context);
  await reloadAndLoadModel(page);
  expect(requests).toContain('/models/phi-tiny/onnx/model.onnx');
  expect(requests, 'only the damaged file is downloaded again').not.toContain('/models/phi-tiny/config.json');
  await sendMessage(page, 'Still there?');
  await waitForReplyEnd(page, 0);
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
});

test('deleting a stored model frees its storage, and the next load downloads it again', async ({ page, context }) => {
  await loadTinyModel(page);
  // The service worker's precache counts towards usage too: measure once it is complete.
  await serviceWorkerReady(page);
  await page.getByRole('button', { name: 'Storage' }).click();
  const panel = page.getByRole('dialog', { name: 'Storage' });
  const stored = panel.getByRole('list', { name: 'Stored models' }).getByRole('listitem');
  await expect(stored).toHaveCount(1);
  await expect(stored).toContainText(/phi-tiny\s*879\.8 KB/);
  await expect(panel).toContainText(/The app uses [\d.]+ [KMG]?B of the [\d.]+ [KMG]?B this browser allows it\./);

  const before = await usage(page);
  await panel.getByRole('button', { name: 'Delete phi-tiny' }).click();
  await expect(panel.getByRole('status')).toHaveText('Deleted phi-tiny, 879.8 KB freed. It downloads again the next time it loads.');
  await expect(panel).toContainText('No models are stored on this device.');
  await expect.poll(async () => before - (await usage(page)), { message: 'bytes freed' }).toBeGreaterThan(800_000);
  console.log(`storage estimate: ${before} bytes before the delete, ${await usage(page)} after`);
  await panel.getByRole('button', { name: 'Close' }).click();

  const requests = recordModelRequests(context);
  await reloadAndLoadModel(page);
  expect(requests).toContain('/models/phi-tiny/onnx/model.onnx');
  expect(requests).toContain('/models/phi-tiny/config.json');
});

// Chromium stops enforcing CDP's Storage.overrideQuotaForOrigin on this origin once the service
// worker's precache holds the 6 MB WebLLM chunk (a raw 0.9 MB IndexedDB write then succeeds under a
// quota below usage; on an origin without that precache the same write fails with QuotaExceededError).
// The app's handling of both the estimate check and a QuotaExceededError is unit-tested in
// workers/weights-cache.test.ts; this end-to-end check waits for a way to cap storage that holds.
test.fixme('a model that does not fit in storage still loads, says so, and downloads again next time', async ({ page, context }) => {
  await page.goto(modelLink());
  await serviceWorkerReady(page);
  // Leave room for the small JSON files but not for the 0.9 MB of weights. (Chromium enforces
  // this quota but does not report it in estimate(), so the write itself fails.)
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(page.url()).origin, quotaSize: (await usage(page)) + 200_000 });

  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('transformers.js');
  await expect(page.getByRole('status').filter({ hasText: 'does not fit' })).toHaveText(
    /^phi-tiny \(879\.8 KB\) does not fit in the storage this browser allows( \([\d.]+ [KMG]?B free\))?; it will be downloaded again next time\.$/,
  );
  await sendMessage(page, 'Can you still answer?');
  await waitForReplyEnd(page, 0);
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();

  const requests = recordModelRequests(context);
  await reloadAndLoadModel(page);
  expect(requests).toContain('/models/phi-tiny/onnx/model.onnx');
  expect(requests, 'the files that fitted are kept').not.toContain('/models/phi-tiny/config.json');
});
