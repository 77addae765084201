import { readFileSync, writeFileSync } from 'node:fs';
import { expect, loadTinyModel, reply, sendMessage, serviceWorkerReady, test, waitForReplyEnd } from './fixtures';

test('offline, the app opens from the service worker, loads the stored model and replies', async ({ page, context }) => {
  await loadTinyModel(page);
  await serviceWorkerReady(page);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Phi Chat' })).toBeVisible();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'the page came from the service worker').toBe(true);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('transformers.js');

  await sendMessage(page, 'Is this working without the network?');
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
  await waitForReplyEnd(page, 0);
  await expect(reply(page, 0).getByRole('alert')).toHaveCount(0);
});

test('a new version shows "Update available" and takes over when the user reloads', async ({ page }) => {
  await page.goto('./');
  await serviceWorkerReady(page);
  await page.reload();
  await expect(page.getByText('Update available')).toHaveCount(0);

  // A deploy, as the browser sees one: the service worker script on the server changes.
  const deployed = readFileSync('dist/sw.js', 'utf8');
  try {
    writeFileSync('dist/sw.js', `${deployed}\n// the next version\n`);
    await page.evaluate(async () => {
      await (await navigator.serviceWorker.ready).update();
    });
    await expect(page.getByRole('status').filter({ hasText: 'Update available' })).toBeVisible();
  } finally {
    writeFileSync('dist/sw.js', deployed);
  }
  // Nothing happens until the user chooses.
  await page.waitForTimeout(500);
  await expect(page.getByRole('button', { name: 'Reload to update' })).toBeVisible();

  const reloaded = page.waitForEvent('framenavigated');
  await page.getByRole('button', { name: 'Reload to update' }).click();
  await reloaded;
  await expect(page.getByRole('heading', { name: 'Phi Chat' })).toBeVisible();
  await expect(page.getByText('Update available')).toHaveCount(0);
  expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting ?? null)).toBeNull();
});

test("the service worker's own requests to other sites are blocked and reported like any other", async ({ page, context, externalRequests }) => {
  await page.goto('./');
  await serviceWorkerReady(page);
  const [serviceWorker] = context.serviceWorkers();
  const outcome = await serviceWorker.evaluate(() => fetch('https://example.com/leak').then(() => 'reached', () => 'blocked'));
  expect(outcome).toBe('blocked');
  expect(externalRequests).toEqual(['https://example.com/leak']);
  // Seen and blocked, which is what this test checks; the fixture would fail it otherwise.
  externalRequests.length = 0;
});
